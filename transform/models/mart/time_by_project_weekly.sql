-- Toggl hours per project and ISO week (weeks start on Monday, days in var `timezone`).
-- Running entries (no stop yet) count once they stop.
select
    date_trunc('week', e.day)::date as week_start,
    e.project_id,
    coalesce(p.project_name, '(no project)') as project_name,
    count(*) as entries,
    round(sum(e.duration_seconds) / 3600.0, 2) as hours
from {{ ref('stg_toggl__time_entries') }} as e
left join {{ ref('stg_toggl__projects') }} as p using (project_id)
where e.duration_seconds is not null and e.day is not null
group by 1, 2, 3
