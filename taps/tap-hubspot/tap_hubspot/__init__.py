"""tap-hubspot: HubSpot CRM contacts, companies and engagements as bronze rows."""
