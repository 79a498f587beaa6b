"""target-zendesk: a Singer target that writes into Zendesk Support, built on the Meltano Singer SDK."""
