"""Built-in resource listeners: a generic JSON webhook and Git commit statuses on GitHub and
GitLab, over httpx with retries. Tokens travel in headers only, never in logs or payloads."""

from gitflink.adapters.notify.commit_status import GitHubCommitStatus, GitLabCommitStatus
from gitflink.adapters.notify.delivery import Delivery, DeliveryFailed, Retry
from gitflink.adapters.notify.webhook import WebhookListener

__all__ = [
    "Delivery",
    "DeliveryFailed",
    "GitHubCommitStatus",
    "GitLabCommitStatus",
    "Retry",
    "WebhookListener",
]
