"""Outgoing webhooks over HTTP, behind the SSRF policy of `addresses`."""

from ocp.adapters.webhooks.http import HttpWebhookSender

__all__ = ["HttpWebhookSender"]
