"""The ingress template, after the operator: a URL once `{{name}}` and `{{namespace}}` are
filled in."""

from __future__ import annotations

from urllib.parse import urlsplit

from gitflink.core.parsing import Desired
from gitflink.model.problems import Problem
from gitflink.model.resources import IngressSpec

WHERE = "spec.ingress.template"


def ingress_url(template: str, name: str, namespace: str) -> str:
    """The URL the operator derives; a template without a scheme is read as http."""
    url = template.replace("{{name}}", name).replace("{{namespace}}", namespace)
    return url if url.startswith(("http://", "https://")) else f"http://{url}"


def ingress_problems(item: Desired, ingress: IngressSpec | None) -> list[Problem]:
    if ingress is None:
        return []
    if not ingress.template:
        return [item.problem(WHERE, "required when ingress is set")]
    metadata = item.resource.metadata
    url = ingress_url(ingress.template, metadata.name, metadata.namespace)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it: a non-numeric port raises
    except ValueError as error:
        message = (
            f"does not form a valid URL once {{{{name}}}} and {{{{namespace}}}} are set: {error}"
        )
        return [item.problem(WHERE, message)]
    return []
