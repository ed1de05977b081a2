"""tap-airtable: records of Airtable tables (inventories, body measurements) as bronze rows."""
