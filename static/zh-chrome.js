// Chinese for the words Datasette's own scripts write into the page (table.js column menus,
// filter-row buttons, column chooser, mobile column actions). The templates are Chinese; these
// strings are made by script, so they are translated as they appear: once when the page is
// ready and then for every element a script adds (MutationObserver). Text nodes and the title,
// aria-label and placeholder attributes; nothing else on the page is touched.
(function () {
  "use strict";
  var EXACT = {
    "Sort ascending": "升序排列",
    "Sort descending": "降序排列",
    "Facet by this": "按此列分面",
    "Choose columns": "选择显示的列",
    "Hide this column": "隐藏此列",
    "Show all columns": "显示所有列",
    "Show not-blank rows": "只看此列不为空的行",
    "Add another filter": "再加一个筛选条件",
    "Remove this filter": "删除此筛选条件",
    "Counting…": "正在计数…",
    "count all": "统计全部",
    "Count failed": "计数失败",
    "Request failed": "请求失败",
    "Select all": "全选",
    "Deselect all": "全不选",
    "Cancel": "取消",
    "Apply": "应用",
    "Save": "保存",
    "Saving...": "正在保存…",
    "Done": "完成",
    "Column actions": "列操作",
    "Tap a column to reveal actions.": "点一列查看可做的操作。",
    "No actions available": "没有可用的操作",
    "Drag to reorder": "拖动调整顺序",
    "Set custom type": "设置列类型",
    "No custom type": "无自定义类型",
    "No custom type set.": "未设置自定义类型。",
    "Type unavailable": "类型不详",
    "Use standard Datasette rendering without a custom type.": "按默认方式显示。",
    "No registered custom types are compatible with this SQLite type.": "没有适用于此列的自定义类型。",
    "Format SQL": "格式化 SQL",
    "Copy": "复制",
    "Copied!": "已复制"
  };
  var PATTERNS = [
    [/^Type: ([A-Z]+)( NOT NULL)?$/, function (m) {
      var t = {TEXT: "文本", INTEGER: "整数", REAL: "小数", FLOAT: "小数", BLOB: "二进制", NUMERIC: "数值"}[m[1]] || m[1];
      return "类型：" + t + (m[2] ? "（不可为空）" : "");
    }],
    [/^Column: (.*)$/, function (m) { return "列：" + m[1]; }],
    [/^(\d+) of (\d+) selected$/, function (m) { return "已选 " + m[1] + " / " + m[2] + " 列"; }],
    [/^(\d+) columns$/, function (m) { return "共 " + m[1] + " 列"; }],
    [/^([\d,]+) rows?$/, function (m) { return "共 " + m[1] + " 行"; }]
  ];
  var ATTRS = ["title", "aria-label", "placeholder"];

  function zh(text) {
    var key = text.trim();
    if (!key || !/[A-Za-z]/.test(key)) return null;
    if (Object.prototype.hasOwnProperty.call(EXACT, key)) return text.replace(key, EXACT[key]);
    for (var i = 0; i < PATTERNS.length; i++) {
      var m = key.match(PATTERNS[i][0]);
      if (m) return text.replace(key, PATTERNS[i][1](m));
    }
    return null;
  }

  function translate(root) {
    if (!root) return;
    if (root.nodeType === 3) {
      var t = zh(root.nodeValue);
      if (t !== null) root.nodeValue = t;
      return;
    }
    if (root.nodeType !== 1 || root.closest("pre, code, textarea, .cm-editor, .source-text, td")) return;
    ATTRS.forEach(function (a) {
      if (root.hasAttribute(a)) {
        var v = zh(root.getAttribute(a));
        if (v !== null) root.setAttribute(a, v);
      }
    });
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        if (n.nodeType === 1 && n.matches("pre, code, textarea, script, style, .cm-editor, .source-text, td")) {
          return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
      }
    });
    var node;
    while ((node = walker.nextNode())) {
      if (node.nodeType === 3) {
        var s = zh(node.nodeValue);
        if (s !== null) node.nodeValue = s;
      } else {
        for (var i = 0; i < ATTRS.length; i++) {
          if (node.hasAttribute(ATTRS[i])) {
            var w = zh(node.getAttribute(ATTRS[i]));
            if (w !== null) node.setAttribute(ATTRS[i], w);
          }
        }
      }
    }
  }

  function start() {
    translate(document.body);
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === "characterData") {
          translate(r.target);
        } else if (r.type === "attributes") {
          translate(r.target.nodeType === 1 ? r.target : null);
        } else {
          r.addedNodes.forEach(translate);
        }
      });
    }).observe(document.body, {
      childList: true, subtree: true, characterData: true,
      attributes: true, attributeFilter: ATTRS
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
