-- Finding (warn): forms whose printed grade (评分等级) is not the band of their total score.
{{ config(severity='warn') }}

select report_id, project_name, total_score, grade, band_grade
from {{ ref('dim_reports') }}
where grade is distinct from band_grade
