"""SQL views created in ``build/jixiao.db`` (read by the site pages and canned queries)."""

VIEWS = {
    # One row per report with its key figures (money in 万元, rates in percent).
    "report_summary": """
select
  r.report_id, r.unit_name, r.fiscal_year, r.province, r.city, r.county, r.admin_level, r.report_kind,
  e.initial_budget, e.full_year_budget, e.executed, e.execution_rate,
  tp.prev_final as three_public_prev_final, tp.budget as three_public_budget, tp.final as three_public_final,
  round(tp.final - tp.prev_final, 4) as three_public_change,
  case when tp.prev_final > 0 then round(100.0 * (tp.final - tp.prev_final) / tp.prev_final, 2) end
    as three_public_change_pct,
  s.authorized as staff_authorized, s.actual as staff_actual, s.control_rate as staff_control_rate,
  r.total_score, r.stated_score,
  case when r.total_score is not null and r.stated_score is not null
    then round(r.stated_score - r.total_score, 2) end as score_gap,
  r.disclosure_score,
  (select count(*) from findings f where f.report_id = r.report_id) as findings,
  (select count(*) from findings f where f.report_id = r.report_id and f.severity = '错误') as findings_error,
  (select count(*) from findings f where f.report_id = r.report_id and f.severity = '疑点') as findings_doubt,
  (select count(*) from evaluations p where p.report_id = r.report_id and p.kind = 'project') as project_tables,
  r.indicators_count, r.warnings_count, r.unparsed_count, r.source_file
from reports r
left join evaluations e on e.evaluation_id = (
  select evaluation_id from evaluations where report_id = r.report_id and kind = 'overall' order by seq limit 1)
left join expense_controls tp on tp.rowid = (
  select rowid from expense_controls where report_id = r.report_id and key = 'three_public_total'
  order by source = 'basic_data' desc, seq limit 1)
left join staffing s on s.report_id = r.report_id
order by r.report_id
""",
}
