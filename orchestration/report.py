"""The warehouse report: one self-contained HTML page of charts, read from the published marts.

`Settings.report_path` (`report.html` beside the warehouse file). Plotly draws the charts; its
JavaScript and every number are inside the file, so it opens offline, by e-mail, from a share.
The numbers are also embedded once as JSON (`<script id="report-data" type="application/json">`),
for anyone who wants them back out of the page.

- Execution rate (执行率) by implementing unit (实施单位): Σ 全年执行数 / Σ 全年预算数 of the 年度资金总额
  lines, per unit and year (marts.mart_unit_scorecard.weighted_execution_rate_pct, %).
- Points lost (扣分, pt) by reason category and by 一级指标 (marts.fct_deductions).
- Attainment of the indicators (met / not met / exceeded / not assessable) per 主管部门
  (marts.fct_indicator_outcomes).
- Forms that do not add up (marts.mart_report_quality, check_source 'extraction'), each with a link
  to its source file at the form's first page.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

NOT_GIVEN = "(not given)"  # a NULL category: shown, not dropped
ATTAINMENTS = ("met", "exceeded", "not_met", "not_assessable")

QUERIES = {
    "execution_by_unit": """
        SELECT fiscal_year, coalesce(implementing_unit, '{none}') AS implementing_unit,
               weighted_execution_rate_pct, n_reports
        FROM marts.mart_unit_scorecard ORDER BY weighted_execution_rate_pct NULLS FIRST, 2, 1""",
    "points_by_reason_category": """
        SELECT coalesce(reason_category, '{none}') AS reason_category,
               round(sum(points_lost), 2) AS points_lost, count(*) AS deductions
        FROM marts.fct_deductions GROUP BY 1 ORDER BY points_lost DESC, 1""",
    "points_by_level1": """
        SELECT coalesce(level1, '{none}') AS level1,
               round(sum(points_lost), 2) AS points_lost, count(*) AS deductions
        FROM marts.fct_deductions GROUP BY 1 ORDER BY points_lost DESC, 1""",
    "attainment_by_department": """
        SELECT coalesce(department, '{none}') AS department, attainment, count(*) AS indicators
        FROM marts.fct_indicator_outcomes GROUP BY ALL ORDER BY 1, 2""",
    "forms_not_adding_up": """
        SELECT q.report_id, q.fiscal_year, q.implementing_unit, q.project_name, q.source_file,
               r.pages[1] AS page, q.check_name, q.printed_value, q.expected_value, q.detail
        FROM marts.mart_report_quality q JOIN marts.dim_reports r USING (report_id)
        WHERE q.check_source = 'extraction' AND NOT q.passed
        ORDER BY q.source_file, q.report_id, q.check_name""",
}


@dataclass(frozen=True)
class ReportSummary:
    """What `build_report` wrote: the file, and the rows behind each chart (`{chart: rows}`)."""

    path: Path
    rows: dict[str, int]


def report_data(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """The rows behind every chart and table of the report, as {name: [row as dict]}."""
    data = {}
    for name, sql in QUERIES.items():
        result = con.execute(sql.format(none=NOT_GIVEN))
        columns = [d[0] for d in result.description]
        data[name] = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    return data


def _figures(data: dict[str, list[dict]]) -> list[tuple[str, str, object]]:
    import plotly.graph_objects as go

    execution = data["execution_by_unit"]
    rate = go.Figure(
        go.Bar(
            x=[r["weighted_execution_rate_pct"] for r in execution],
            y=[f"{r['implementing_unit']} ({r['fiscal_year']})" for r in execution],
            orientation="h",
            name="执行率 %",
            hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
        )
    )
    rate.update_layout(xaxis_title="执行率 (%)", height=max(300, 28 * len(execution) + 120))

    def points(name: str, key: str, title: str):
        rows = data[name]
        fig = go.Figure(
            go.Bar(
                x=[r[key] for r in rows],
                y=[r["points_lost"] for r in rows],
                name="扣分 pt",
                customdata=[r["deductions"] for r in rows],
                hovertemplate="%{x}: %{y:.2f} pt in %{customdata} deductions<extra></extra>",
            )
        )
        fig.update_layout(xaxis_title=title, yaxis_title="扣分 (pt)")
        return fig

    attainment = data["attainment_by_department"]
    departments = sorted({r["department"] for r in attainment})
    counts = {(r["department"], r["attainment"]): r["indicators"] for r in attainment}
    kinds = [a for a in ATTAINMENTS if any(k == a for _, k in counts)]
    kinds += sorted({k for _, k in counts} - set(kinds))
    by_department = go.Figure(
        [
            go.Bar(name=kind, x=departments, y=[counts.get((d, kind), 0) for d in departments])
            for kind in kinds
        ]
    )
    by_department.update_layout(barmode="stack", xaxis_title="主管部门", yaxis_title="indicators (绩效指标)")
    return [
        ("execution_by_unit", "Execution rate (执行率) by implementing unit (实施单位)", rate),
        (
            "points_by_reason_category",
            "Points lost (扣分) by reason category",
            points("points_by_reason_category", "reason_category", "reason category"),
        ),
        (
            "points_by_level1",
            "Points lost (扣分) by 一级指标",
            points("points_by_level1", "level1", "一级指标"),
        ),
        ("attainment_by_department", "Attainment of indicators per department (主管部门)", by_department),
    ]


def _source_link(data_raw: Path, source_file: str, page: int | None) -> str:
    uri = (data_raw / source_file).resolve().as_uri()
    return uri + (f"#page={page}" if page else "")


def _forms_table(rows: list[dict], data_raw: Path) -> str:
    if not rows:
        return "<p>Every form adds up.</p>"
    head = ("project", "unit", "year", "check", "printed", "expected", "detail", "source")
    lines = ["<table id='forms-not-adding-up'><thead><tr>"]
    lines += [f"<th>{h}</th>" for h in head]
    lines.append("</tr></thead><tbody>")
    for r in rows:
        link = _source_link(data_raw, r["source_file"], r["page"])
        where = html.escape(r["source_file"]) + (f", p. {r['page']}" if r["page"] else "")
        cells = [r["project_name"], r["implementing_unit"], r["fiscal_year"], r["check_name"]]
        cells += [r["printed_value"], r["expected_value"], r["detail"]]
        lines.append(
            "<tr data-report-id='{}'>{}<td><a href='{}'>{}</a></td></tr>".format(
                html.escape(r["report_id"]),
                "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in cells),
                html.escape(link),
                where,
            )
        )
    lines.append("</tbody></table>")
    return "".join(lines)


# Records script errors into the page (the browser test reads them back), then, once Plotly has
# drawn, the numbers each chart holds.
_ERRORS_JS = """<script>window.reportErrors = [];
window.addEventListener('error', e => window.reportErrors.push(String(e.message)));
const consoleError = console.error;
console.error = (...a) => { window.reportErrors.push(a.map(String).join(' ')); consoleError(...a); };
</script>"""
_RENDERED_JS = """<script>window.addEventListener('load', () => {
  const charts = {};
  document.querySelectorAll('.chart').forEach(div => {
    const gd = div.querySelector('.js-plotly-plot');
    charts[div.id] = gd ? gd.data.map(t => ({name: t.name ?? null,
      x: Array.from(t.x ?? []), y: Array.from(t.y ?? [])})) : null;
  });
  const out = document.getElementById('render-check');
  out.textContent = JSON.stringify({charts: charts, errors: window.reportErrors});
});</script>"""

_STYLE = """<style>body{font-family:sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
#render-check{display:none}</style>"""


def render_report(data: dict[str, list[dict]], data_raw: Path, title: str) -> str:
    """The report page for `data` (as `report_data` gives it); source links point into `data_raw`."""
    parts = []
    for index, (name, heading, fig) in enumerate(_figures(data)):
        chart = fig.to_html(full_html=False, include_plotlyjs=index == 0, div_id=f"{name}-plot")
        parts.append(
            f"<section><h2>{html.escape(heading)}</h2><div class='chart' id='{name}'>{chart}</div></section>"
        )
    forms = data["forms_not_adding_up"]
    n_forms = len({r["report_id"] for r in forms})
    parts.append(
        f"<section><h2>Forms that do not add up ({n_forms} form{'' if n_forms == 1 else 's'}, "
        f"{len(forms)} failed check{'' if len(forms) == 1 else 's'})</h2>"
        f"{_forms_table(forms, data_raw)}</section>"
    )
    embedded = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    return (
        f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"{_STYLE}{_ERRORS_JS}</head><body><h1>{html.escape(title)}</h1>"
        "<p>Built from the published warehouse's marts after the load; amounts in 万元, rates in %, "
        "scores in pt.</p>"
        + "".join(parts)
        + f"<script id='report-data' type='application/json'>{embedded}</script>"
        "<pre id='render-check'></pre>" + _RENDERED_JS + "</body></html>"
    )


def build_report(warehouse: Path, path: Path, data_raw: Path) -> ReportSummary:
    """Write the report of the warehouse file `warehouse` (opened read-only) to `path`.

    Raises FileNotFoundError when there is no warehouse file, duckdb.Error when it cannot be read."""
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `make run` first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        data = report_data(con)
    finally:
        con.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_report(data, data_raw, "财政项目支出绩效自评 — warehouse report"), encoding="utf-8")
    os.replace(tmp, path)
    return ReportSummary(path, {name: len(rows) for name, rows in data.items()})
