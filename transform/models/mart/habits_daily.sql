-- Habits from a Notion database (var `habits_database`, its title): one row per habit and
-- day, where each checkbox property of a page is a habit and the date property (var
-- `habit_date_property`) its day. Several pages of one day: done if any says so.
with pages as (
    select p.page_id, p.properties
    from {{ ref('stg_notion__pages') }} as p
    join {{ ref('stg_notion__databases') }} as d using (database_id)
    where d.title = '{{ var("habits_database") }}' and not p.is_archived
)
select
    left(properties -> '{{ var("habit_date_property") }}' -> 'date' ->> 'start', 10)::date as day,
    prop.key as habit,
    bool_or((prop.value ->> 'checkbox')::boolean) as done,
    count(*) as pages
from pages
cross join lateral jsonb_each(properties) as prop
where prop.value ->> 'type' = 'checkbox'
  and jsonb_typeof(prop.value -> 'checkbox') = 'boolean'
  and properties -> '{{ var("habit_date_property") }}' -> 'date' ->> 'start' ~ '^\d{4}-\d{2}-\d{2}'
  {%- for ignored in var('habit_ignore_properties') %}
  and prop.key <> '{{ ignored }}'
  {%- endfor %}
group by 1, 2
