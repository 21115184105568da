"""The GraphQL operations of auto-merge and revert automation: the merge queue and reverting a pull request.

GitHub exposes the merge queue (``isMergeQueueEnabled``, ``isInMergeQueue``, ``mergeQueueEntry``,
``enqueuePullRequest``) and the revert button (``revertPullRequest``) only through GraphQL. Each
operation is named, and the double answers them by name.
"""

from __future__ import annotations

from typing import Any

from github import Github, GithubException

from actions.common.errors import ActionError

MERGE_QUEUE_QUERY = """
query PullRequestMergeQueue($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      id
      headRefOid
      isMergeQueueEnabled
      isInMergeQueue
      mergeQueueEntry { position state enqueuedAt }
    }
  }
}
"""

ENQUEUE_MUTATION = """
mutation EnqueuePullRequest($input: EnqueuePullRequestInput!) {
  enqueuePullRequest(input: $input) {
    mergeQueueEntry { position state enqueuedAt }
  }
}
"""

REVERT_MUTATION = """
mutation RevertPullRequest($input: RevertPullRequestInput!) {
  revertPullRequest(input: $input) {
    revertPullRequest { id number url headRefName }
  }
}
"""


class GraphQLRefusedError(ActionError):
    """GitHub answered a GraphQL operation with errors (the operation did not happen)."""


def run_graphql(client: Github, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a GraphQL answer.

    Raises:
        GraphQLRefusedError: with GitHub's error messages when the answer carries errors.
        GithubException: for HTTP failures other than a GraphQL error answer.
    """
    try:
        _, answer = client.requester.graphql_query(query, variables)
    except GithubException as error:
        errors = error.data.get("errors") if isinstance(error.data, dict) else None
        if not isinstance(errors, list):
            raise
        messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
        raise GraphQLRefusedError("; ".join(m for m in messages if m)[:500] or "GraphQL error") from None
    data = answer.get("data")
    if not isinstance(data, dict):
        raise GraphQLRefusedError("GitHub's GraphQL answer has no data")
    return data


def merge_queue_of(client: Github, repository: str, number: int) -> dict[str, Any] | None:
    """The pull request's merge-queue fields (``id``, ``isMergeQueueEnabled``, ...), None if unavailable.

    None means GitHub could not say (a server without the merge-queue fields answers with errors);
    the caller then falls back to the configuration.
    """
    owner, name = repository.split("/", 1)
    try:
        data = run_graphql(client, MERGE_QUEUE_QUERY, {"owner": owner, "name": name, "number": number})
    except GraphQLRefusedError:
        return None
    pull = (data.get("repository") or {}).get("pullRequest")
    return pull if isinstance(pull, dict) else None


def enqueue(client: Github, node_id: str, head_sha: str) -> dict[str, Any]:
    """Add a pull request to its merge queue, pinned to ``head_sha``; returns the queue entry.

    Raises:
        GraphQLRefusedError: when GitHub refuses (not queueable, head moved, already queued).
    """
    data = run_graphql(
        client, ENQUEUE_MUTATION, {"input": {"pullRequestId": node_id, "expectedHeadOid": head_sha}}
    )
    entry = (data.get("enqueuePullRequest") or {}).get("mergeQueueEntry")
    if not isinstance(entry, dict):
        raise GraphQLRefusedError("GitHub returned no merge queue entry")
    return entry


def revert_pull_request(
    client: Github, node_id: str, *, title: str, body: str, draft: bool
) -> dict[str, Any]:
    """Open the pull request reverting a merged one, as GitHub's revert button does; returns it.

    Raises:
        GraphQLRefusedError: when GitHub refuses (not merged, cannot be reverted automatically).
    """
    data = run_graphql(
        client,
        REVERT_MUTATION,
        {"input": {"pullRequestId": node_id, "title": title, "body": body, "draft": draft}},
    )
    created = (data.get("revertPullRequest") or {}).get("revertPullRequest")
    if not isinstance(created, dict) or not isinstance(created.get("number"), int):
        raise GraphQLRefusedError("GitHub returned no revert pull request")
    return created
