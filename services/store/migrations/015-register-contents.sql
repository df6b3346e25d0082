-- Register file contents the bot has seen, by SHA-256 of the file's bytes (services/store/register-contents.ts).
-- first_seen_at dates a DSPT export whose download name (which carries its date) is gone: a copy
-- of an old file under a new name or a new modified time keeps the age it had (issue 22).
-- accepted_at marks the content put in use: after a restart a new file is compared with it, so a
-- file held back as broken (far fewer rows, many skipped) is not taken because the process restarted.
-- No personal data: a register name, a hash, counts and times.
CREATE TABLE register_contents (
  register TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  first_seen_at TIMESTAMPTZ NOT NULL,
  accepted_at TIMESTAMPTZ,
  usable_rows INTEGER,
  skipped_rows INTEGER,
  PRIMARY KEY (register, sha256)
);
CREATE INDEX register_contents_accepted ON register_contents (register, accepted_at DESC) WHERE accepted_at IS NOT NULL;
