"""frontdesk: the Kafka event backbone for multi-tenant Property Management Systems."""
