"""tap-zendesk: a Singer tap for Zendesk Support, built on the Meltano Singer SDK."""
