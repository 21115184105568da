INSERT INTO raw.sync_state (repo, stream, state, batch_seq, committed_at)
VALUES ($repo, $stream, CAST($state AS JSON), $batch_seq, now())
ON CONFLICT (repo, stream) DO UPDATE SET
    state = excluded.state,
    batch_seq = excluded.batch_seq,
    committed_at = excluded.committed_at;
