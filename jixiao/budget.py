"""A file's time budget: :class:`Budget` raises :class:`FileTimeout` in a file's parser when the
file takes longer than the build allows it (``jixiao build --file-timeout``), in the main process
(the bundle probe in :mod:`jixiao.inputs`) and in worker processes (:mod:`jixiao.jobs`)."""
from __future__ import annotations

DEFAULT_FILE_TIMEOUT = 300.0  # seconds a file may take: a 50-page scan OCRs at ~5 s a page
_NATIVE_GRACE = 60.0  # CPU seconds past the budget before a worker stuck in native code is killed
_in_worker = False  # set in worker processes (see in_worker_process)


class FileTimeout(BaseException):
    """A file took longer than its time budget. A BaseException, so that a reader's
    ``except Exception`` cannot swallow it and go on."""


def _on_alarm(signum, frame):
    raise FileTimeout()


class Budget:
    """A wall-clock budget for one file: SIGALRM raises :class:`FileTimeout` in the code that
    runs (parsers, OCR waiting on tesseract). Code stuck in C never sees the exception, so in a
    worker process a CPU-time timer with the default action (SIGVTALRM terminates the process)
    backs it up: the dead worker is then handled like any other (see :func:`jixiao.jobs.run_jobs`).
    Only in the main thread, and only where the platform has these timers."""

    def __init__(self, seconds: float | None):
        import signal
        import threading

        self.seconds = seconds if seconds and hasattr(signal, "setitimer") else None
        if threading.current_thread() is not threading.main_thread():
            self.seconds = None

    def __enter__(self):
        import signal

        if self.seconds:
            self._old = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            if _in_worker:
                signal.signal(signal.SIGVTALRM, signal.SIG_DFL)
                signal.setitimer(signal.ITIMER_VIRTUAL, self.seconds + _NATIVE_GRACE)
        return self

    def __exit__(self, *exc):
        import signal

        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if _in_worker:
                signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            signal.signal(signal.SIGALRM, self._old)
        return False


def in_worker_process() -> None:
    """Called in each worker process (:func:`jixiao.jobs._worker_init`): from now on a budget
    also arms the CPU-time timer that kills a worker stuck in native code."""
    global _in_worker
    _in_worker = True
