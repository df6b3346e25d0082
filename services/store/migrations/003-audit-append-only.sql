-- The audit trail is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE on
-- audit_events, so neither a bug nor a hand-typed statement can rewrite history.
--
-- The one exception is the retention purge (services/store/retention.ts). Inside its own
-- transaction it sets nas.audit_purge to 'on' with set_config(..., true), a setting that lasts
-- only for that transaction, and may then only take information away: detail may become a
-- subset of what it was (jsonb containment) and actor_name may become empty. The skeleton,
-- meaning id, action, actor id, time, request and account, can never change. This guards
-- against mistakes and casual tampering by the application's own connection. A database
-- superuser can still drop the trigger, and that is for database permissions to prevent.
--
-- The function body is written so that no semicolon ends a line: migrate.ts splits a script
-- into statements at semicolons that end a line, and must not cut the body in two.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF current_setting('nas.audit_purge', true) = 'on'
       AND NEW.id = OLD.id AND NEW.action = OLD.action AND NEW.actor_id = OLD.actor_id AND NEW.occurred_at = OLD.occurred_at
       AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id AND NEW.account_id IS NOT DISTINCT FROM OLD.account_id
       AND NEW.detail <@ OLD.detail AND NEW.actor_name IN (OLD.actor_name, '') THEN
      RETURN NEW; END IF; END IF; RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; END
$$;

CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
