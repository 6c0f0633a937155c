"""Forwarding: which destinations get a lead (routing), delivery state and retries, destinations, adapters."""
