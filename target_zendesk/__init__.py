"""target-zendesk: a Singer target writing into Zendesk Support, built on the Meltano Singer SDK."""
