-- Each participant's baseline: the median steps over their first 14 active days (an
-- active day has more than 0 steps). Fewer than 14 active days give a baseline over
-- those there are; `baseline_days` says how many.
with active as (
    select user_id, activity_date, total_steps,
           row_number() over (partition by user_id order by activity_date) as active_day_number
    from {{ ref('user_daily_activity') }}
    where total_steps > 0
)
select
    user_id,
    percentile_cont(0.5) within group (order by total_steps)::numeric as baseline_steps,
    count(*)::int as baseline_days,
    min(activity_date) as baseline_start_date,
    max(activity_date) as baseline_end_date
from active
where active_day_number <= 14
group by user_id
