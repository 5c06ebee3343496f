-- Custom migration: every instance keeps the routing facts (numbers → clients → owners,
-- departments and their DIDs) in memory and is told of each committed change by NOTIFY, from
-- whatever wrote it: the API, another instance, an import script or psql. The payload is only
-- `kind:id`; the listener reads the row back, so no payload can exceed NOTIFY's 8000 bytes.
-- A change that moves a row (a number to another client, a DID to another department) notifies
-- both the old and the new owner of the row.
CREATE FUNCTION switchboard_routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_key text;
  new_key text;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_key := to_jsonb(OLD) ->> TG_ARGV[1]; END IF;
  IF TG_OP <> 'DELETE' THEN new_key := to_jsonb(NEW) ->> TG_ARGV[1]; END IF;
  IF old_key IS NOT NULL THEN
    PERFORM pg_notify('switchboard_routing', TG_ARGV[0] || ':' || old_key);
  END IF;
  IF new_key IS NOT NULL AND new_key IS DISTINCT FROM old_key THEN
    PERFORM pg_notify('switchboard_routing', TG_ARGV[0] || ':' || new_key);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- TRUNCATE fires no row triggers: tell the listeners to read everything again.
CREATE FUNCTION switchboard_routing_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_routing', '*');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER clients_routing_changed AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION switchboard_routing_changed('client', 'id');
--> statement-breakpoint
CREATE TRIGGER client_phones_routing_changed AFTER INSERT OR UPDATE OR DELETE ON client_phones
  FOR EACH ROW EXECUTE FUNCTION switchboard_routing_changed('client', 'client_id');
--> statement-breakpoint
CREATE TRIGGER users_routing_changed AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION switchboard_routing_changed('user', 'id');
--> statement-breakpoint
CREATE TRIGGER departments_routing_changed AFTER INSERT OR UPDATE OR DELETE ON departments
  FOR EACH ROW EXECUTE FUNCTION switchboard_routing_changed('department', 'id');
--> statement-breakpoint
CREATE TRIGGER department_dids_routing_changed AFTER INSERT OR UPDATE OR DELETE ON department_dids
  FOR EACH ROW EXECUTE FUNCTION switchboard_routing_changed('department', 'department_id');
--> statement-breakpoint
CREATE TRIGGER clients_routing_truncated AFTER TRUNCATE ON clients
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard_routing_truncated();
--> statement-breakpoint
CREATE TRIGGER client_phones_routing_truncated AFTER TRUNCATE ON client_phones
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard_routing_truncated();
--> statement-breakpoint
CREATE TRIGGER users_routing_truncated AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard_routing_truncated();
--> statement-breakpoint
CREATE TRIGGER departments_routing_truncated AFTER TRUNCATE ON departments
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard_routing_truncated();
--> statement-breakpoint
CREATE TRIGGER department_dids_routing_truncated AFTER TRUNCATE ON department_dids
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard_routing_truncated();
