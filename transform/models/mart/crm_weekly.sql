-- HubSpot per ISO week (Monday, UTC): contacts created and engagements that took place.
with contacts as (
    select date_trunc('week', created_at at time zone 'UTC')::date as week_start, count(*) as contacts_created
    from {{ ref('stg_hubspot__contacts') }}
    where created_at is not null and not is_archived
    group by 1
),
engagements as (
    select date_trunc('week', occurred_at at time zone 'UTC')::date as week_start,
           count(*) as engagements,
           count(*) filter (where engagement_type = 'call') as calls,
           count(*) filter (where engagement_type = 'email') as emails,
           count(*) filter (where engagement_type = 'meeting') as meetings,
           count(*) filter (where engagement_type = 'note') as notes,
           count(*) filter (where engagement_type = 'task') as tasks
    from {{ ref('stg_hubspot__engagements') }}
    where occurred_at is not null
    group by 1
)
select
    week_start,
    coalesce(c.contacts_created, 0) as contacts_created,
    coalesce(e.engagements, 0) as engagements,
    coalesce(e.calls, 0) as calls,
    coalesce(e.emails, 0) as emails,
    coalesce(e.meetings, 0) as meetings,
    coalesce(e.notes, 0) as notes,
    coalesce(e.tasks, 0) as tasks
from contacts as c
full join engagements as e using (week_start)
