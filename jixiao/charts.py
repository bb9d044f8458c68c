"""ECharts options for the site's charts, built on the server as plain JSON (pure functions).

Rules that keep a chart readable at 390 px and at 1280 px (issue 14.3):

- Categories with long Chinese names (units, 三公 items, indicators) go on the vertical axis of a
  horizontal bar chart, one row each, so their labels never overlap; the chart's height grows with
  the number of rows (``_height``, read by the ``chart`` macro of ``_site_macros.html``).
- Value labels sit inside their own bar: at the bar's end for side-by-side bars, inside the segment
  for stacked bars; ``static/charts.js`` hides the labels of empty segments and of segments too
  short to hold their figure (``label.minShare``), so no figure is drawn over its neighbour.
- One unit per axis: each value axis names its unit; figures of different units get their own
  chart, or a second axis with its own name.
- Axis names sit outside the plot (``nameLocation: middle``) with room kept for them.

Options may hold keys starting with ``_`` (hints for the page); charts.js removes them before
ECharts sees the option.
"""
from __future__ import annotations

ROW = 15  # px per bar of a horizontal chart
GAP = 14  # px between categories
TOP = 58  # title + legend
BOTTOM = 46  # value axis labels + its name
MAX_ROWS = 30  # categories drawn in one chart (the table below the chart has every row)


def _title(text, subtext=""):
    title = {"text": text, "left": "center", "textStyle": {"fontSize": 14}}
    if subtext:
        title["subtext"] = subtext
        title["subtextStyle"] = {"fontSize": 11}
    return title


PHONE = 330  # px of a chart on a 390 px screen
# A vertical bar's figure runs up inside the bar itself: side-by-side bars on a phone are narrower
# than a figure such as 2,754.61 written across them. Bars too short to hold it show none.
UPRIGHT_LABEL = {"show": True, "position": "insideBottom", "rotate": 90, "align": "left", "verticalAlign": "middle",
                 "distance": 6, "color": "#fff", "fontSize": 11, "minShare": 0.3}


def legend_lines(names, width=PHONE):
    """Lines the legend wraps to in ``width`` px (an item: its mark, gap and ~12 px a character)."""
    lines, used = 1, 0
    for n in names:
        w = 35 + 12 * len(n)
        if used and used + w > width:
            lines, used = lines + 1, 0
        used += w + 10
    return lines


def label_lines(text, width):
    """Lines an axis label wraps to in ``width`` px at 12 px a Chinese character (6 for ASCII)."""
    px = sum(6 if ch.isascii() else 12 for ch in str(text))
    return max(1, -(-px // width))


def _legend(names, top=26):
    # A plain legend wraps onto more lines on a phone; the plot starts below its last line.
    return {"top": top, "data": list(names), "itemGap": 10, "textStyle": {"fontSize": 12}}


def _value_axis(unit, position="bottom"):
    return {"type": "value", "name": unit, "nameLocation": "middle", "nameGap": 26 if position == "bottom" else 40,
            "nameTextStyle": {"color": "#556"}, "splitNumber": 3, "axisLabel": {"hideOverlap": True}}


def horizontal_bars(categories, series, title, unit, stack=False, subtext="", label_width=110):
    """Bars along a horizontal value axis, one row per category (first category on top).

    ``series``: (name, values) pairs, values aligned with ``categories`` (None: no figure).
    """
    categories = list(categories)
    if len(categories) > MAX_ROWS:  # say so: the table under the chart has every row
        subtext = "；".join(x for x in (subtext, f"图中只画前 {MAX_ROWS} 行，共 {len(categories)} 行见下表") if x)
    categories = categories[:MAX_ROWS]
    series = [(n, list(v)[:MAX_ROWS]) for n, v in series]
    # a row is as tall as its bars or its label, whichever is taller (a label wraps at label_width)
    lines = max((label_lines(c, label_width) for c in categories), default=1)
    per_category = max(ROW + 6 if stack else ROW * len(series), 14 * lines) + GAP
    top = TOP + (16 if subtext else 0) + 22 * (legend_lines([n for n, _ in series]) - 1)
    option = {
        "title": _title(title, subtext),
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True},
        "legend": _legend([n for n, _ in series], top=26 + (16 if subtext else 0)),
        "grid": {"top": top, "left": 8, "right": 8 if stack else 52, "bottom": BOTTOM, "containLabel": True},
        "xAxis": _value_axis(unit),
        "yAxis": {"type": "category", "data": categories, "inverse": True,
                  "axisLabel": {"width": label_width, "overflow": "break", "lineHeight": 14, "interval": 0},
                  "axisTick": {"alignWithLabel": True}},
        "series": [],
        "_height": top + BOTTOM + 8 + per_category * max(1, len(categories)),
    }
    for name, values in series:
        s = {"name": name, "type": "bar", "data": values, "barMaxWidth": 22}
        if stack:
            s["stack"] = "total"
            s["label"] = {"show": True, "position": "inside", "color": "#fff", "fontSize": 11, "minShare": 0.12}
        else:
            s["label"] = {"show": True, "position": "right", "fontSize": 11, "color": "#333"}
        option["series"].append(s)
    return option


def year_bars(years, series, title, unit):
    """Side-by-side bars for a few years (short category labels: a vertical chart is fine)."""
    top = 76 + 22 * (legend_lines([n for n, _ in series]) - 1)
    return {
        "title": _title(title),
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True},
        "legend": _legend([n for n, _ in series]),
        "grid": {"top": top, "left": 8, "right": 16, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": {"type": "value", "name": unit, "splitNumber": 4, "nameTextStyle": {"align": "left", "color": "#556"}},
        "series": [{"name": n, "type": "bar", "data": list(v), "barMaxWidth": 36, "label": dict(UPRIGHT_LABEL)}
                   for n, v in series],
        "_height": top + 224,
    }


def two_axis_bars(years, left, right, title):
    """Two measures of different units over the years, side by side: each bar on its own axis,
    named by its unit (a rate in % on the left, a score in 分 on the right).

    ``left`` / ``right``: (series name, unit, values).
    """
    (lname, lunit, lvalues), (rname, runit, rvalues) = left, right

    def axis(unit):
        return {"type": "value", "name": unit, "min": 0, "splitNumber": 4, "nameTextStyle": {"color": "#556"}}

    def bars(name, index, values):
        return {"name": name, "type": "bar", "yAxisIndex": index, "data": list(values), "barMaxWidth": 36,
                "label": dict(UPRIGHT_LABEL)}

    return {
        "title": _title(title),
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True},
        "legend": _legend([f"{lname}（{lunit}，左轴）", f"{rname}（{runit}，右轴）"]),
        "grid": {"top": 76, "left": 8, "right": 8, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": [axis(lunit), axis(runit)],
        "series": [bars(f"{lname}（{lunit}，左轴）", 0, lvalues), bars(f"{rname}（{runit}，右轴）", 1, rvalues)],
        "_height": 300,
    }


def scatter(points, x_name, y_name, title):
    """points: (label, x, y). Each label sits on the side of its point that faces the middle of
    the plot, so labels of points at the right or left edge are not cut."""
    xs = [x for _, x, _ in points]
    mid = (min(xs) + max(xs)) / 2 if xs else 0
    data = [{"name": n, "value": [x, y],
             "label": {"position": "left" if len(points) > 1 and x > mid else "right"}} for n, x, y in points]
    return {
        "title": _title(title),
        "tooltip": {"trigger": "item", "confine": True},
        "grid": {"top": 56, "left": 12, "right": 20, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "value", "name": x_name, "nameLocation": "middle", "nameGap": 26, "scale": True,
                  "nameTextStyle": {"color": "#556"}},
        "yAxis": {"type": "value", "name": y_name, "scale": True, "nameTextStyle": {"align": "left", "color": "#556"}},
        "series": [{"type": "scatter", "symbolSize": 12, "data": data,
                    "label": {"show": True, "formatter": "{b}", "fontSize": 11, "width": 96, "overflow": "break"},
                    "labelLayout": {"hideOverlap": True, "moveOverlap": "shiftY"}}],
        "_height": 380,
    }


def unit_year_charts(rows):
    """A unit's years (rows of report_summary / unit_over_years): budget and spending (万元),
    三公经费 (万元), and the execution rate (%) beside the self-evaluation score (分)."""
    years = [r["fiscal_year"] for r in rows]
    unit = rows[0]["unit_name"] if rows else ""
    return [
        year_bars(years, [("全年预算数", [r.get("full_year_budget") for r in rows]),
                          ("全年执行数", [r.get("executed") for r in rows])], f"{unit} 历年资金", "万元"),
        year_bars(years, [("三公经费", [r.get("three_public_final") for r in rows])], f"{unit} 历年三公经费", "万元"),
        two_axis_bars(years, ("预算执行率", "%", [r.get("execution_rate") for r in rows]),
                      ("自评总分", "分", [r.get("total_score") for r in rows]), f"{unit} 预算执行率与自评总分"),
    ]


def short(text, n=14):
    text = text or ""
    return text if len(text) <= n else text[: n - 1] + "…"
