"""GraphQL documents sent to GitHub.

One query pages through a repository's pull requests, newest update first, with their reviews
and changed files nested: a page of 50 pull requests costs one request instead of the 100 REST
calls (``/pulls/{n}/reviews`` and ``/pulls/{n}/files``) it replaces.
"""

from __future__ import annotations

PULL_REQUEST_DETAILS = """
query PullRequestDetails($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number
        updatedAt
        reviews(first: 100) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes {
            databaseId
            author { login __typename }
            state
            body
            submittedAt
            authorAssociation
            commit { oid }
          }
        }
        files(first: 100) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes { path additions deletions changeType }
        }
      }
    }
  }
}
"""
"""Variables: ``owner``, ``name``, ``first`` (page size, at most 100), ``after`` (cursor or null)."""
