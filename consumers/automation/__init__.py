"""The automation deployment: guest notifications rendered per tenant, sent via a provider."""
