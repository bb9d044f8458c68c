// The SQL editor (CodeMirror, vendored by Datasette) on the database and query pages. The same
// code as Datasette's _codemirror_foot.html, moved out of the page so the Content-Security-Policy
// can forbid inline script; the table → columns schema for autocompletion comes from
// <script type="application/json" id="sql-schema"> (templates/_codemirror_foot.html).
window.addEventListener("DOMContentLoaded", function () {
  var schemaEl = document.getElementById("sql-schema");
  var schema = {};
  try {
    schema = schemaEl ? JSON.parse(schemaEl.textContent) : {};
  } catch (e) {
    schema = {};
  }
  var sqlFormat = document.querySelector("button#sql-format");
  var readOnly = document.querySelector("pre#sql-query");
  var sqlInput = document.querySelector("textarea#sql-editor");
  if (sqlFormat && !readOnly) {
    sqlFormat.hidden = false;
  }
  if (sqlInput && window.cm) {
    var editor = (window.editor = cm.editorFromTextArea(sqlInput, { schema: schema }));
    if (sqlFormat && window.sqlFormatter) {
      sqlFormat.addEventListener("click", function () {
        var formatted = sqlFormatter.format(editor.state.doc.toString());
        editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: formatted } });
      });
    }
  }
  if (sqlFormat && readOnly && window.sqlFormatter) {
    var formatted = sqlFormatter.format(readOnly.innerHTML);
    if (formatted != readOnly.innerHTML) {
      sqlFormat.hidden = false;
      sqlFormat.addEventListener("click", function () {
        readOnly.innerHTML = formatted;
      });
    }
  }
});
