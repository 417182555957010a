"""Git commit status for the applied revision, on GitHub (`POST /repos/{repo}/statuses/{sha}`)
and GitLab (`POST /projects/{id}/statuses/{sha}`): pending when a change starts, then success or
failure with the plan's summary. Only revision states are posted; other notices are ignored."""

from __future__ import annotations

from urllib.parse import quote

from gitflink.adapters.notify.delivery import Delivery
from gitflink.model.notifications import RevisionState, RevisionStateKind
from gitflink.ports import ResourceListener
from gitflink.settings import Secret

CONTEXT = "gitflink"
GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com/api/v4"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _CommitStatus(ResourceListener):
    """What both forges need: where the commit lives, the API, the token, how to post."""

    API = ""

    def __init__(
        self,
        target: str,  # GitHub: owner/name; GitLab: group/name, or the numeric id
        *,
        token: Secret,
        delivery: Delivery,
        api: str | None = None,
        context: str = CONTEXT,
        target_url: str | None = None,
    ) -> None:
        self.target = target.strip("/")
        self.api = (api or self.API).rstrip("/")
        self.context = context
        self.target_url = target_url
        self._token = token
        self._delivery = delivery


class GitHubCommitStatus(_CommitStatus):
    API = GITHUB_API

    def on_revision(self, state: RevisionState) -> None:
        body: dict[str, str] = {
            "state": state.state.value,  # pending, success, failure: GitHub's own words
            "description": _cut(state.description, 140),  # GitHub's limit
            "context": self.context,
        }
        if self.target_url:
            body["target_url"] = self.target_url
        headers = {
            "Authorization": f"Bearer {self._token.reveal()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "gitflink",
        }
        url = f"{self.api}/repos/{self.target}/statuses/{state.sha}"
        self._delivery.post(url, body, headers, cause="commit_status")


_GITLAB_STATES = {
    RevisionStateKind.PENDING: "pending",
    RevisionStateKind.SUCCESS: "success",
    RevisionStateKind.FAILURE: "failed",
}


class GitLabCommitStatus(_CommitStatus):
    API = GITLAB_API

    def on_revision(self, state: RevisionState) -> None:
        body: dict[str, str] = {
            "state": _GITLAB_STATES[state.state],
            "description": _cut(state.description, 255),
            "name": self.context,
        }
        if self.target_url:
            body["target_url"] = self.target_url
        headers = {"PRIVATE-TOKEN": self._token.reveal(), "User-Agent": "gitflink"}
        project = quote(self.target, safe="")  # group/name is one path segment: group%2Fname
        url = f"{self.api}/projects/{project}/statuses/{state.sha}"
        self._delivery.post(url, body, headers, cause="commit_status")
