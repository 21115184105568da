-- The change each run built, as known when it was triggered.
-- GitHub runs: the pull request's diff, only for runs of its final head commit (the diff of an
-- earlier push is not recorded, and the final diff would leak later pushes into earlier runs);
-- reviews and approvals count only if submitted before the run was triggered.
-- TravisTorrent builds: the table's own change-size columns.
CREATE OR REPLACE TABLE core.run_changes AS
WITH files AS (
    SELECT
        repo,
        pull_number,
        additions,
        deletions,
        status,
        CASE
            WHEN regexp_matches(filename, '(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*$|_test\.[a-z]+$|\.(spec|test)\.[a-z]+$')
                THEN 'test'
            WHEN regexp_matches(filename, '(^|/)docs?/|\.(md|rst|txt|adoc)$') THEN 'doc'
            ELSE 'src'
        END AS kind
    FROM core.pr_files
),
pr_changes AS (
    SELECT
        repo,
        pull_number,
        sum(additions) AS lines_added,
        sum(deletions) AS lines_deleted,
        count(*) AS files_changed,
        sum(additions + deletions) FILTER (kind = 'src') AS src_churn,
        sum(additions + deletions) FILTER (kind = 'test') AS test_churn,
        sum(additions + deletions) FILTER (kind = 'doc') AS doc_churn,
        count(*) FILTER (kind = 'test' AND status = 'added') AS tests_added
    FROM files
    GROUP BY ALL
),
github_runs AS (
    SELECT r.repo, r.id, r.run_attempt, r.created_at, p.number AS pull_number, p.created_at AS pr_created_at,
           p.author_association
    FROM core.ci_runs AS r
    JOIN core.pull_requests AS p
      ON p.repo = r.repo AND p.head_sha = r.head_sha AND coalesce(r.pull_number, p.number) = p.number
    WHERE r.source = 'github'
    QUALIFY row_number() OVER (PARTITION BY r.repo, r.id, r.run_attempt ORDER BY p.number DESC) = 1
),
reviews_before AS (
    SELECT
        g.repo,
        g.id,
        g.run_attempt,
        count(v.id) AS review_count,
        date_diff('second', g.pr_created_at, min(v.submitted_at) FILTER (v.state = 'approved')) AS approval_seconds
    FROM github_runs AS g
    LEFT JOIN core.reviews AS v
      ON v.repo = g.repo AND v.pull_number = g.pull_number AND v.submitted_at <= g.created_at
    GROUP BY g.repo, g.id, g.run_attempt, g.pr_created_at
)
SELECT
    g.repo,
    g.id,
    g.run_attempt,
    g.pull_number,
    c.lines_added,
    c.lines_deleted,
    c.files_changed,
    coalesce(c.src_churn, 0) AS src_churn,
    coalesce(c.test_churn, 0) AS test_churn,
    coalesce(c.doc_churn, 0) AS doc_churn,
    c.tests_added,
    CAST(NULL AS DOUBLE) AS test_density,
    b.review_count,
    CAST(b.approval_seconds AS DOUBLE) AS approval_seconds,
    CAST(NULL AS BIGINT) AS team_size,
    g.author_association IN ('owner', 'member', 'collaborator') AS by_core_member,
    CAST(NULL AS DOUBLE) AS log_tests_failed,
    CAST(NULL AS DOUBLE) AS log_tests_run
FROM github_runs AS g
LEFT JOIN pr_changes AS c USING (repo, pull_number)
LEFT JOIN reviews_before AS b USING (repo, id, run_attempt)
UNION ALL BY NAME
SELECT
    gh_project_name AS repo,
    tr_build_id AS id,
    1 AS run_attempt,
    CAST(gh_pull_req_num AS BIGINT) AS pull_number,
    CAST(NULL AS BIGINT) AS lines_added,
    CAST(NULL AS BIGINT) AS lines_deleted,
    gh_diff_files_added + gh_diff_files_deleted + gh_diff_files_modified AS files_changed,
    git_diff_src_churn AS src_churn,
    git_diff_test_churn AS test_churn,
    CAST(NULL AS BIGINT) AS doc_churn,
    gh_diff_tests_added AS tests_added,
    gh_test_lines_per_kloc AS test_density,
    CAST(NULL AS BIGINT) AS review_count,
    CAST(NULL AS DOUBLE) AS approval_seconds,
    gh_team_size AS team_size,
    gh_by_core_team_member AS by_core_member,
    tr_log_num_tests_failed AS log_tests_failed,
    tr_log_num_tests_run AS log_tests_run
FROM raw.travis_builds;
