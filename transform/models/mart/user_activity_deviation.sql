-- Each participant-day against the participant's baseline (mart.user_baseline_activity).
select
    d.user_id,
    d.activity_date,
    d.total_steps,
    b.baseline_steps,
    d.total_steps - b.baseline_steps as steps_delta_from_baseline,
    case when b.baseline_steps > 0
         then round(100.0 * d.total_steps / b.baseline_steps, 1) end as steps_pct_of_baseline,
    d.activity_date between b.baseline_start_date and b.baseline_end_date as is_baseline_window
from {{ ref('user_daily_activity') }} as d
join {{ ref('user_baseline_activity') }} as b using (user_id)
