-- 0002 users and quote system: customers/agents, their drivers and vehicles, quotes with a
-- data-driven status machine, immutable versioned rating snapshots and per-coverage lines.
--
-- Versioning protocol (optimistic concurrency), enforced by triggers below:
--   1. UPDATE quotes SET status = 'rated', premium = $p, current_version = current_version + 1
--        WHERE id = $1 AND current_version = $expected;      -- 0 rows => someone else re-rated
--   2. INSERT INTO quote_versions (quote_id, version, premium, ...) VALUES ($1, $expected + 1, $p, ...);
--   in ONE transaction. quote_versions_contiguous checks the inserted version is max + 1 and equals
--   quotes.current_version; the deferred quotes_current_version_in_step checks at COMMIT that
--   current_version and premium are those of the latest version (so a bump without a version, or
--   a premium edited without re-rating, cannot commit).

-- ---------------------------------------------------------------------------------------------
-- Enumerations
-- ---------------------------------------------------------------------------------------------
CREATE TYPE user_role AS ENUM ('customer', 'agent');
COMMENT ON TYPE user_role IS
    'What a platform user is: a customer who asks for quotes, or an agent who is assigned quotes.';

CREATE TYPE quote_status AS ENUM (
    'draft', 'rated', 'presented', 'bound', 'expired', 'declined', 'cancelled'
);
COMMENT ON TYPE quote_status IS
    'Quote lifecycle: draft -> rated (-> rated on re-rate) -> presented -> bound; draft/rated/presented -> expired | declined | cancelled. bound, expired, declined and cancelled are terminal. Allowed moves live in quote_status_transitions.';

CREATE TYPE coverage_type AS ENUM (
    'bodily_injury', 'property_damage', 'collision', 'comprehensive',
    'uninsured_motorist', 'medical_payments', 'rental', 'roadside'
);
COMMENT ON TYPE coverage_type IS
    'The fixed set of personal auto coverages a quote can contain (and base rates are filed for).';

-- ---------------------------------------------------------------------------------------------
-- users
-- ---------------------------------------------------------------------------------------------
CREATE TABLE users (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    email      citext      NOT NULL,
    full_name  text        NOT NULL,
    role       user_role   NOT NULL,
    phone      text        NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_unique UNIQUE (email),
    CONSTRAINT users_email_format CHECK (
        length(email) <= 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
    ),
    CONSTRAINT users_full_name_not_blank CHECK (btrim(full_name) <> ''),
    CONSTRAINT users_phone_format CHECK (phone ~ '^\+[1-9][0-9]{6,14}$')
);

COMMENT ON TABLE users IS 'Platform users: customers asking for quotes and agents working them.';
COMMENT ON COLUMN users.email IS 'Login and contact address; case-insensitive (citext), unique.';
COMMENT ON COLUMN users.phone IS 'Optional contact number in E.164 form (+15551234567).';
COMMENT ON CONSTRAINT users_email_unique ON users IS
    'An e-mail address belongs to at most one user, compared case-insensitively.';
COMMENT ON CONSTRAINT users_email_format ON users IS
    'An e-mail address looks like local@domain.tld and is at most 254 characters.';
COMMENT ON CONSTRAINT users_full_name_not_blank ON users IS 'A user has a non-blank full name.';
COMMENT ON CONSTRAINT users_phone_format ON users IS
    'A phone number, when given, is in E.164 form: + then 7 to 15 digits, no leading zero.';

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- drivers (0004 adds the encrypted licence columns)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE drivers (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id        uuid        NOT NULL,
    first_name     text        NOT NULL,
    last_name      text        NOT NULL,
    date_of_birth  date        NOT NULL,
    licensed_since date        NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT drivers_pkey PRIMARY KEY (id),
    CONSTRAINT drivers_user_fk FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT drivers_name_not_blank CHECK (btrim(first_name) <> '' AND btrim(last_name) <> ''),
    CONSTRAINT drivers_date_of_birth_range CHECK (date_of_birth >= DATE '1900-01-01'),
    CONSTRAINT drivers_licensed_after_birth CHECK (licensed_since > date_of_birth)
);

COMMENT ON TABLE drivers IS
    'People a user wants to insure as drivers (the user themself, household members). What was rated is frozen in quote_versions.rating_inputs.';
COMMENT ON COLUMN drivers.licensed_since IS
    'Date the driver was first licensed (years of experience is a rating input); NULL = not yet known.';
COMMENT ON CONSTRAINT drivers_user_fk ON drivers IS
    'A driver belongs to a user; CASCADE because a driver profile means nothing without its user, and quotes keep their own snapshot of the drivers they rated.';
COMMENT ON CONSTRAINT drivers_name_not_blank ON drivers IS
    'A driver has a non-blank first and last name.';
COMMENT ON CONSTRAINT drivers_date_of_birth_range ON drivers IS
    'A driver''s date of birth is not before 1900-01-01 (a fixed floor: CHECK cannot use the current date).';
COMMENT ON CONSTRAINT drivers_licensed_after_birth ON drivers IS
    'A driver is first licensed after being born.';

CREATE INDEX drivers_user_id_idx ON drivers (user_id);

CREATE TRIGGER drivers_set_updated_at
    BEFORE UPDATE ON drivers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- vehicles
-- ---------------------------------------------------------------------------------------------
CREATE TABLE vehicles (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL,
    vin        char(17)    NOT NULL,
    make       text        NOT NULL,
    model      text        NOT NULL,
    model_year smallint    NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vehicles_pkey PRIMARY KEY (id),
    CONSTRAINT vehicles_user_fk FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    -- bpchar -> text drops the blank padding, so a 16-character VIN fails the {17} match.
    CONSTRAINT vehicles_vin_format CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    -- Fixed range: a CHECK must be immutable, so it cannot say "next year + 1" via now().
    -- 1981 is the first model year of the 17-character VIN standard; 2100 is a sanity ceiling.
    -- "Not more than one model year ahead" is validated in Rust when the vehicle is entered.
    CONSTRAINT vehicles_model_year_range CHECK (model_year BETWEEN 1981 AND 2100),
    CONSTRAINT vehicles_make_model_not_blank CHECK (btrim(make) <> '' AND btrim(model) <> ''),
    CONSTRAINT vehicles_user_vin_unique UNIQUE (user_id, vin)
);

COMMENT ON TABLE vehicles IS
    'Vehicles a user wants insured. What was rated is frozen in quote_versions.rating_inputs.';
COMMENT ON COLUMN vehicles.vin IS
    'Vehicle Identification Number: 17 upper-case characters, never I, O or Q (ISO 3779).';
COMMENT ON COLUMN vehicles.model_year IS 'Manufacturer model year (1981 onwards: 17-character VIN era).';
COMMENT ON CONSTRAINT vehicles_user_fk ON vehicles IS
    'A vehicle belongs to a user; CASCADE because a garage entry means nothing without its user, and quotes keep their own snapshot of the vehicles they rated.';
COMMENT ON CONSTRAINT vehicles_vin_format ON vehicles IS
    'A VIN is exactly 17 upper-case letters or digits and never contains I, O or Q.';
COMMENT ON CONSTRAINT vehicles_model_year_range ON vehicles IS
    'A vehicle''s model year is between 1981 (17-character VIN standard) and 2100.';
COMMENT ON CONSTRAINT vehicles_make_model_not_blank ON vehicles IS
    'A vehicle has a non-blank make and model.';
COMMENT ON CONSTRAINT vehicles_user_vin_unique ON vehicles IS
    'A user registers the same vehicle (VIN) only once.';

-- The unique (user_id, vin) index serves the user lookup; this one serves VIN lookups across users.
CREATE INDEX vehicles_vin_idx ON vehicles (vin);

CREATE TRIGGER vehicles_set_updated_at
    BEFORE UPDATE ON vehicles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- quote numbers: Q-YYYYMMDD-XXXXXX (UTC date of issue + 6 characters of 0-9 and A-Z without the
-- look-alikes I and O). Random rather than a sequence so numbers do not reveal volumes;
-- 34^6 ~ 1.5e9 per day makes collisions rare and quotes_number_unique catches the rest (the
-- repository retries the insert).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION generate_quote_number() RETURNS text
    LANGUAGE sql
    VOLATILE
AS $fn$
    SELECT 'Q-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-' ||
           string_agg(substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1), '')
    FROM generate_series(1, 6)
$fn$;

COMMENT ON FUNCTION generate_quote_number() IS
    'A fresh human quote number Q-YYYYMMDD-XXXXXX (UTC issue date, 6 random characters from 0-9 A-Z without I and O); default of quotes.quote_number.';

GRANT EXECUTE ON FUNCTION generate_quote_number() TO quotedb_app;

-- ---------------------------------------------------------------------------------------------
-- quotes
-- ---------------------------------------------------------------------------------------------
CREATE TABLE quotes (
    id              uuid          NOT NULL DEFAULT gen_random_uuid(),
    quote_number    text          NOT NULL DEFAULT generate_quote_number(),
    customer_id     uuid          NOT NULL,
    agent_id        uuid          NULL,
    state_code      char(2)       NOT NULL,
    zip             text          NOT NULL,
    status          quote_status  NOT NULL DEFAULT 'draft',
    premium         numeric(12,2) NULL,
    current_version integer       NOT NULL DEFAULT 0,
    effective_date  date          NOT NULL,
    expires_at      timestamptz   NOT NULL,
    bound_at        timestamptz   NULL,
    metadata        jsonb         NOT NULL,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT quotes_pkey PRIMARY KEY (id),
    CONSTRAINT quotes_number_unique UNIQUE (quote_number),
    CONSTRAINT quotes_number_format CHECK (
        quote_number ~ '^Q-[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])-[0-9A-HJ-NP-Z]{6}$'
    ),
    CONSTRAINT quotes_customer_fk FOREIGN KEY (customer_id)
        REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT quotes_agent_fk FOREIGN KEY (agent_id)
        REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT quotes_state_fk FOREIGN KEY (state_code)
        REFERENCES states (code) ON DELETE RESTRICT,
    CONSTRAINT quotes_zip_format CHECK (zip ~ '^[0-9]{5}$'),
    CONSTRAINT quotes_premium_positive CHECK (premium > 0),
    CONSTRAINT quotes_premium_required_once_rated CHECK (
        status NOT IN ('rated', 'presented', 'bound') OR premium IS NOT NULL
    ),
    CONSTRAINT quotes_draft_has_no_premium CHECK (status <> 'draft' OR premium IS NULL),
    CONSTRAINT quotes_current_version_nonnegative CHECK (current_version >= 0),
    CONSTRAINT quotes_expires_after_creation CHECK (expires_at > created_at),
    CONSTRAINT quotes_bound_at_iff_bound CHECK ((status = 'bound') = (bound_at IS NOT NULL)),
    CONSTRAINT quotes_bound_within_validity CHECK (
        bound_at IS NULL OR (bound_at >= created_at AND bound_at <= expires_at)
    ),
    CONSTRAINT quotes_metadata_is_object CHECK (jsonb_typeof(metadata) = 'object')
);

COMMENT ON TABLE quotes IS
    'Auto insurance quotes: who asks (customer), who works it (agent), where (state, ZIP), the current premium and status. Every rating is frozen in quote_versions.';
COMMENT ON COLUMN quotes.quote_number IS
    'Human reference Q-YYYYMMDD-XXXXXX given to the customer; generated by generate_quote_number().';
COMMENT ON COLUMN quotes.agent_id IS 'Agent assigned to the quote; NULL = unassigned (or the agent was removed).';
COMMENT ON COLUMN quotes.state_code IS 'State whose rates apply (garaging state).';
COMMENT ON COLUMN quotes.zip IS 'Garaging ZIP code (5 digits); selects the territory factor.';
COMMENT ON COLUMN quotes.status IS 'Lifecycle state; starts at draft; moves only along quote_status_transitions.';
COMMENT ON COLUMN quotes.premium IS
    'Current annual premium = premium of quote_versions[current_version]; NULL until first rated.';
COMMENT ON COLUMN quotes.current_version IS
    'Number of the latest quote_versions row (0 = never rated). Optimistic-concurrency token: the repository bumps it with WHERE current_version = $expected, then inserts that version in the same transaction.';
COMMENT ON COLUMN quotes.effective_date IS 'Requested policy start date; rates effective on this date apply.';
COMMENT ON COLUMN quotes.expires_at IS
    'End of the quote''s validity (creation + quote validity days, computed by the repository); open quotes past it are expired by a worker.';
COMMENT ON COLUMN quotes.bound_at IS 'When the customer accepted (bound) the quote; set iff status = bound.';
COMMENT ON COLUMN quotes.metadata IS
    'Free-form JSON object (channel, campaign, client info); queried by containment (@>).';

COMMENT ON CONSTRAINT quotes_number_unique ON quotes IS 'A quote number identifies exactly one quote.';
COMMENT ON CONSTRAINT quotes_number_format ON quotes IS
    'A quote number is Q-YYYYMMDD-XXXXXX: a calendar-shaped date and 6 characters of 0-9 and A-Z without I and O.';
COMMENT ON CONSTRAINT quotes_customer_fk ON quotes IS
    'A quote belongs to a customer; RESTRICT because quotes are business records that must outlive any attempt to delete the customer.';
COMMENT ON CONSTRAINT quotes_agent_fk ON quotes IS
    'A quote may be assigned to an agent; SET NULL because removing an agent leaves the quote valid, just unassigned.';
COMMENT ON CONSTRAINT quotes_state_fk ON quotes IS
    'A quote is for a known state; RESTRICT because a state with quotes cannot disappear from the reference data.';
COMMENT ON CONSTRAINT quotes_zip_format ON quotes IS 'A quote''s ZIP code is exactly 5 digits.';
COMMENT ON CONSTRAINT quotes_premium_positive ON quotes IS 'A quote''s premium, when present, is greater than zero.';
COMMENT ON CONSTRAINT quotes_premium_required_once_rated ON quotes IS
    'A rated, presented or bound quote has a premium.';
COMMENT ON CONSTRAINT quotes_draft_has_no_premium ON quotes IS
    'A draft quote has not been rated, so it has no premium.';
COMMENT ON CONSTRAINT quotes_current_version_nonnegative ON quotes IS
    'A quote''s current version is 0 (never rated) or a positive version number.';
COMMENT ON CONSTRAINT quotes_expires_after_creation ON quotes IS 'A quote expires after it was created.';
COMMENT ON CONSTRAINT quotes_bound_at_iff_bound ON quotes IS
    'A quote has a bind time if and only if it is bound.';
COMMENT ON CONSTRAINT quotes_bound_within_validity ON quotes IS
    'A quote is bound between its creation and its expiry: an expired offer cannot be accepted.';
COMMENT ON CONSTRAINT quotes_metadata_is_object ON quotes IS 'A quote''s metadata is a JSON object.';

-- Keyset pages of a customer's quotes: WHERE customer_id = $1 AND (created_at, id) < ($2, $3)
-- ORDER BY created_at DESC, id DESC. Also serves the RESTRICT check on user deletion.
CREATE INDEX quotes_customer_id_created_at_id_idx ON quotes (customer_id, created_at DESC, id DESC);
-- An agent's pipeline, same keyset shape; also serves ON DELETE SET NULL from users.
CREATE INDEX quotes_agent_id_created_at_id_idx ON quotes (agent_id, created_at DESC, id DESC);
-- Expiry worker: open quotes whose validity has passed (WHERE status IN (...) AND expires_at < now()).
-- Literal predicate so generic plans can use it; the worker query must repeat it verbatim.
CREATE INDEX quotes_expires_at_open_idx ON quotes (expires_at)
    WHERE status IN ('draft', 'rated', 'presented');
CREATE INDEX quotes_metadata_idx ON quotes USING gin (metadata jsonb_path_ops);

CREATE TRIGGER quotes_set_updated_at
    BEFORE UPDATE ON quotes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Party roles: a customer_id must point at a customer, an agent_id at an agent.
-- (A FK cannot look at users.role.) One function, two rule-named triggers.
CREATE FUNCTION quotes_party_role_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_expected user_role;
    v_user     uuid;
    v_role     user_role;
BEGIN
    IF TG_NAME = 'quotes_customer_is_customer' THEN
        v_expected := 'customer';
        v_user := NEW.customer_id;
    ELSE
        v_expected := 'agent';
        v_user := NEW.agent_id;
    END IF;
    IF v_user IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT u.role INTO v_role FROM users u WHERE u.id = v_user;
    -- Unknown user: let the foreign key report it.
    IF FOUND AND v_role <> v_expected THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = TG_NAME,
            MESSAGE = format('user %s has role %s, not %s', v_user, v_role, v_expected),
            DETAIL = format('quote %s: %s must reference a user with role %s',
                            NEW.id, CASE v_expected WHEN 'customer' THEN 'customer_id' ELSE 'agent_id' END,
                            v_expected);
    END IF;
    RETURN NEW;
END
$fn$;

COMMENT ON FUNCTION quotes_party_role_fn() IS
    'Trigger function of quotes_customer_is_customer and quotes_agent_is_agent (dispatches on TG_NAME).';

CREATE TRIGGER quotes_customer_is_customer
    BEFORE INSERT OR UPDATE OF customer_id ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_party_role_fn();
COMMENT ON TRIGGER quotes_customer_is_customer ON quotes IS
    'A quote''s customer is a user with role customer.';

CREATE TRIGGER quotes_agent_is_agent
    BEFORE INSERT OR UPDATE OF agent_id ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_party_role_fn();
COMMENT ON TRIGGER quotes_agent_is_agent ON quotes IS
    'A quote''s assigned agent is a user with role agent.';

-- ---------------------------------------------------------------------------------------------
-- quote_status_transitions: the status machine as data
-- ---------------------------------------------------------------------------------------------
CREATE TABLE quote_status_transitions (
    from_status quote_status NOT NULL,
    to_status   quote_status NOT NULL,
    CONSTRAINT quote_status_transitions_pkey PRIMARY KEY (from_status, to_status),
    CONSTRAINT quote_status_transitions_terminal_has_no_exit CHECK (
        from_status IN ('draft', 'rated', 'presented')
    ),
    CONSTRAINT quote_status_transitions_nothing_returns_to_draft CHECK (to_status <> 'draft')
);

COMMENT ON TABLE quote_status_transitions IS
    'The allowed quote status moves (from -> to). rated -> rated is a re-rate. Reference data owned by migrations; read by the quotes_status_transition trigger.';
COMMENT ON CONSTRAINT quote_status_transitions_terminal_has_no_exit ON quote_status_transitions IS
    'bound, expired, declined and cancelled are terminal: no transition may leave them.';
COMMENT ON CONSTRAINT quote_status_transitions_nothing_returns_to_draft ON quote_status_transitions IS
    'No transition leads back to draft.';

INSERT INTO quote_status_transitions (from_status, to_status) VALUES
    ('draft', 'rated'),
    ('rated', 'rated'),
    ('rated', 'presented'),
    ('presented', 'bound'),
    ('draft', 'expired'),   ('draft', 'declined'),     ('draft', 'cancelled'),
    ('rated', 'expired'),   ('rated', 'declined'),     ('rated', 'cancelled'),
    ('presented', 'expired'), ('presented', 'declined'), ('presented', 'cancelled');

-- A "move" is a status change, or a write that bumps current_version (a rating). A write that
-- leaves both status and current_version unchanged (e.g. SET status = status, or re-asserting
-- bound on a bound quote) is not a move and passes. So:
--   * rated -> rated with a version bump is a re-rate and must be (and is) in the table;
--     presented -> presented or bound -> bound with a bump is refused (not in the table);
--   * a bump is a rating: it is exactly +1 and its target status must be 'rated' (e.g.
--     rated -> presented with a bump is refused even though rated -> presented is allowed), so
--     current_version never goes down.
-- INSERT is not a move: a quote may be inserted in any status (imports, the volume generator),
-- but quotes_current_version_in_step still requires its versions to be there at commit.
-- The trigger watches current_version too, so a bump without SET status is still checked.
CREATE FUNCTION quotes_status_transition_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
BEGIN
    IF NEW.status = OLD.status AND NEW.current_version = OLD.current_version THEN
        RETURN NEW;
    END IF;
    IF NEW.current_version <> OLD.current_version
       AND (NEW.current_version <> OLD.current_version + 1 OR NEW.status <> 'rated') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_status_transition',
            MESSAGE = format('quote %s: a rating adds exactly one version and leaves the quote rated',
                             NEW.id),
            DETAIL = format('%s -> %s with current_version %s -> %s',
                            OLD.status, NEW.status, OLD.current_version, NEW.current_version);
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM quote_status_transitions t
        WHERE t.from_status = OLD.status AND t.to_status = NEW.status
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_status_transition',
            MESSAGE = format('quote %s cannot move from %s to %s', NEW.id, OLD.status, NEW.status),
            DETAIL = 'allowed moves are listed in quote_status_transitions',
            HINT = CASE WHEN OLD.status IN ('bound', 'expired', 'declined', 'cancelled')
                        THEN format('%s is a terminal status', OLD.status)
                        ELSE format('allowed from %s: %s', OLD.status,
                                    (SELECT string_agg(t.to_status::text, ', ' ORDER BY t.to_status)
                                     FROM quote_status_transitions t WHERE t.from_status = OLD.status))
                   END;
    END IF;
    RETURN NEW;
END
$fn$;

COMMENT ON FUNCTION quotes_status_transition_fn() IS 'Trigger function of quotes_status_transition.';

CREATE TRIGGER quotes_status_transition
    BEFORE UPDATE OF status, current_version ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_status_transition_fn();
COMMENT ON TRIGGER quotes_status_transition ON quotes IS
    'A quote moves only along the transitions listed in quote_status_transitions; a rating adds exactly one version and leaves the quote rated; bound, expired, declined and cancelled are terminal.';

-- ---------------------------------------------------------------------------------------------
-- quote_versions: immutable rating snapshots
-- ---------------------------------------------------------------------------------------------
CREATE TABLE quote_versions (
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    quote_id      uuid          NOT NULL,
    version       integer       NOT NULL,
    premium       numeric(12,2) NOT NULL,
    rating_inputs jsonb         NOT NULL,
    breakdown     jsonb         NOT NULL,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT quote_versions_pkey PRIMARY KEY (id),
    CONSTRAINT quote_versions_quote_fk FOREIGN KEY (quote_id)
        REFERENCES quotes (id) ON DELETE RESTRICT,
    CONSTRAINT quote_versions_quote_version_unique UNIQUE (quote_id, version),
    CONSTRAINT quote_versions_version_positive CHECK (version >= 1),
    CONSTRAINT quote_versions_premium_positive CHECK (premium > 0),
    CONSTRAINT quote_versions_rating_inputs_is_object CHECK (jsonb_typeof(rating_inputs) = 'object'),
    CONSTRAINT quote_versions_breakdown_is_object CHECK (jsonb_typeof(breakdown) = 'object')
);

COMMENT ON TABLE quote_versions IS
    'Immutable snapshot of every rating of a quote (inputs, premium breakdown, premium), numbered 1, 2, 3... per quote. Never updated or deleted.';
COMMENT ON COLUMN quote_versions.version IS 'Contiguous per quote, starting at 1; equals quotes.current_version when written.';
COMMENT ON COLUMN quote_versions.premium IS 'Annual premium this rating produced (rounded half-even to cents in Rust).';
COMMENT ON COLUMN quote_versions.rating_inputs IS
    'Everything the rating read: drivers, vehicles, coverages, rate ids and factors, settings (e.g. discount cap).';
COMMENT ON COLUMN quote_versions.breakdown IS
    'How the premium was computed: base x territory x (1 + surcharges) x (1 - capped discounts), per coverage.';
COMMENT ON CONSTRAINT quote_versions_quote_fk ON quote_versions IS
    'A version belongs to a quote; RESTRICT because versions are immutable records of what was priced: a quote that has been rated cannot be deleted (CASCADE would also collide with quote_versions_immutable).';
COMMENT ON CONSTRAINT quote_versions_quote_version_unique ON quote_versions IS
    'A quote has at most one snapshot per version number.';
COMMENT ON CONSTRAINT quote_versions_version_positive ON quote_versions IS 'Version numbers start at 1.';
COMMENT ON CONSTRAINT quote_versions_premium_positive ON quote_versions IS
    'A rating produces a premium greater than zero.';
COMMENT ON CONSTRAINT quote_versions_rating_inputs_is_object ON quote_versions IS
    'A version''s rating inputs are a JSON object.';
COMMENT ON CONSTRAINT quote_versions_breakdown_is_object ON quote_versions IS
    'A version''s premium breakdown is a JSON object.';

-- (quote_id, version) lookups use the index of quote_versions_quote_version_unique.
CREATE INDEX quote_versions_rating_inputs_idx ON quote_versions USING gin (rating_inputs jsonb_path_ops);
CREATE INDEX quote_versions_breakdown_idx ON quote_versions USING gin (breakdown jsonb_path_ops);

CREATE FUNCTION quote_versions_immutable_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = 'quote_versions_immutable',
        MESSAGE = format('quote version %s of quote %s is immutable: %s refused',
                         OLD.version, OLD.quote_id, TG_OP),
        DETAIL = 'a re-rate inserts a new version instead';
END
$fn$;

COMMENT ON FUNCTION quote_versions_immutable_fn() IS 'Trigger function of quote_versions_immutable.';

CREATE TRIGGER quote_versions_immutable
    BEFORE UPDATE OR DELETE ON quote_versions
    FOR EACH ROW EXECUTE FUNCTION quote_versions_immutable_fn();
COMMENT ON TRIGGER quote_versions_immutable ON quote_versions IS
    'A quote version is an immutable snapshot: it is never updated or deleted.';

-- Contiguity. Locks the parent quote row (FOR NO KEY UPDATE: the same lock the repository's
-- UPDATE already holds, so concurrent raters of one quote serialize), then requires
-- version = max(version) + 1 = quotes.current_version. The repository must therefore bump
-- quotes.current_version first (see the header). A missing (or RLS-invisible) quote is refused
-- here too, so versions can never be attached without the parent lock.
CREATE FUNCTION quote_versions_contiguous_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current integer;
    v_max     integer;
BEGIN
    SELECT q.current_version INTO v_current
    FROM quotes q WHERE q.id = NEW.quote_id
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_versions_contiguous',
            MESSAGE = format('quote %s not found: cannot add version %s', NEW.quote_id, NEW.version);
    END IF;
    -- The latest version by one backward probe of quote_versions_quote_version_unique, not max():
    -- under row level security every version row passes the policy check, and max() would check
    -- all of a quote's versions on every rating (ORDER BY ... LIMIT 1 checks one).
    SELECT coalesce((SELECT v.version FROM quote_versions v WHERE v.quote_id = NEW.quote_id
                     ORDER BY v.version DESC LIMIT 1), 0) INTO v_max;
    IF NEW.version <> v_max + 1 OR NEW.version <> v_current THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_versions_contiguous',
            MESSAGE = format('quote %s: version %s is not the next version', NEW.quote_id, NEW.version),
            DETAIL = format('latest version is %s and quotes.current_version is %s; expected %s = current_version',
                            v_max, v_current, v_max + 1),
            HINT = 'bump quotes.current_version (WHERE current_version = expected) before inserting the version';
    END IF;
    RETURN NEW;
END
$fn$;

COMMENT ON FUNCTION quote_versions_contiguous_fn() IS 'Trigger function of quote_versions_contiguous.';

CREATE TRIGGER quote_versions_contiguous
    BEFORE INSERT ON quote_versions
    FOR EACH ROW EXECUTE FUNCTION quote_versions_contiguous_fn();
COMMENT ON TRIGGER quote_versions_contiguous ON quote_versions IS
    'Quote versions are numbered 1, 2, 3... without gaps, and a new version is the quote''s current_version (bumped first by the caller).';

-- Deferred consistency between a quote and its versions, checked at COMMIT.
CREATE FUNCTION quotes_current_version_in_step_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current integer;
    v_premium numeric(12,2);
    v_max     integer;
    v_vprem   numeric(12,2);
BEGIN
    SELECT q.current_version, q.premium INTO v_current, v_premium
    FROM quotes q WHERE q.id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;  -- deleted later in the same transaction
    END IF;
    -- One backward index probe, not max() (see quote_versions_contiguous_fn).
    SELECT coalesce((SELECT v.version FROM quote_versions v WHERE v.quote_id = NEW.id
                     ORDER BY v.version DESC LIMIT 1), 0) INTO v_max;
    IF v_current <> v_max THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_current_version_in_step',
            MESSAGE = format('quote %s: current_version %s but latest version is %s', NEW.id, v_current, v_max),
            HINT = 'insert the quote_versions row for the bumped version in the same transaction';
    END IF;
    IF v_current > 0 THEN
        SELECT v.premium INTO v_vprem FROM quote_versions v
        WHERE v.quote_id = NEW.id AND v.version = v_current;
    END IF;
    IF v_premium IS DISTINCT FROM v_vprem THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quotes_current_version_in_step',
            MESSAGE = format('quote %s: premium %s differs from the premium %s of its current version %s',
                             NEW.id, coalesce(v_premium::text, 'NULL'), coalesce(v_vprem::text, 'NULL'), v_current),
            HINT = 'a premium changes only by rating: bump current_version and insert a version';
    END IF;
    RETURN NULL;
END
$fn$;

COMMENT ON FUNCTION quotes_current_version_in_step_fn() IS 'Trigger function of quotes_current_version_in_step.';

-- The WHEN clause skips rows with nothing to check (a new draft: no version, no premium), so
-- bulk inserts of drafts queue no deferred events. It is safe for UPDATE too because
-- quotes_status_transition only lets current_version grow by one: a row that ends at 0 was at 0,
-- and a quote at version 0 has no versions (versions start at 1 and must equal current_version).
CREATE CONSTRAINT TRIGGER quotes_current_version_in_step
    AFTER INSERT OR UPDATE OF current_version, premium ON quotes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.current_version <> 0 OR NEW.premium IS NOT NULL)
    EXECUTE FUNCTION quotes_current_version_in_step_fn();
COMMENT ON TRIGGER quotes_current_version_in_step ON quotes IS
    'At commit, a quote''s current_version is its latest version number (0 if none) and its premium is that version''s premium (NULL if none).';
COMMENT ON CONSTRAINT quotes_current_version_in_step ON quotes IS
    'At commit, a quote''s current_version is its latest version number (0 if none) and its premium is that version''s premium (NULL if none).';

-- ---------------------------------------------------------------------------------------------
-- quote_coverages
-- ---------------------------------------------------------------------------------------------
CREATE TABLE quote_coverages (
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    quote_id      uuid          NOT NULL,
    coverage_type coverage_type NOT NULL,
    limit_amount  numeric(12,2) NULL,
    deductible    numeric(12,2) NOT NULL,
    premium       numeric(12,2) NULL,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT quote_coverages_pkey PRIMARY KEY (id),
    CONSTRAINT quote_coverages_quote_fk FOREIGN KEY (quote_id)
        REFERENCES quotes (id) ON DELETE CASCADE,
    CONSTRAINT quote_coverages_quote_coverage_unique UNIQUE (quote_id, coverage_type),
    CONSTRAINT quote_coverages_limit_nonnegative CHECK (limit_amount >= 0),
    CONSTRAINT quote_coverages_deductible_nonnegative CHECK (deductible >= 0),
    CONSTRAINT quote_coverages_premium_nonnegative CHECK (premium >= 0)
);

COMMENT ON TABLE quote_coverages IS
    'The coverages requested on a quote (at most one line per coverage type) and, once rated, each line''s premium.';
COMMENT ON COLUMN quote_coverages.limit_amount IS
    'Coverage limit in dollars; NULL = no stated limit (e.g. collision pays actual cash value).';
COMMENT ON COLUMN quote_coverages.deductible IS 'Deductible in dollars; 0 for coverages without one (liability).';
COMMENT ON COLUMN quote_coverages.premium IS 'This line''s premium from the latest rating; NULL until rated.';
COMMENT ON CONSTRAINT quote_coverages_quote_fk ON quote_coverages IS
    'A coverage line belongs to a quote; CASCADE because the lines are part of the quote (only unrated quotes can be deleted at all: rated ones are held by quote_versions_quote_fk).';
COMMENT ON CONSTRAINT quote_coverages_quote_coverage_unique ON quote_coverages IS
    'A quote lists each coverage type at most once.';
COMMENT ON CONSTRAINT quote_coverages_limit_nonnegative ON quote_coverages IS
    'A coverage limit, when stated, is not negative.';
COMMENT ON CONSTRAINT quote_coverages_deductible_nonnegative ON quote_coverages IS
    'A deductible is not negative.';
COMMENT ON CONSTRAINT quote_coverages_premium_nonnegative ON quote_coverages IS
    'A coverage line''s premium, when rated, is not negative.';

-- quote_id lookups (and the CASCADE) use the index of quote_coverages_quote_coverage_unique.

CREATE TRIGGER quote_coverages_set_updated_at
    BEFORE UPDATE ON quote_coverages
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Coverage lines can change only while the price can still change (draft or rated). Once a quote
-- is presented the customer has seen a price for exactly these lines; after that they are frozen.
-- One index probe, no loop: the quote a line leaves (UPDATE, DELETE) and the one it joins (INSERT,
-- UPDATE) are checked by one query (OLD is NULL for an INSERT, NEW for a DELETE). A quote that is
-- gone (its own deletion cascading here) or unknown (the foreign key reports it) finds no row and
-- passes.
CREATE FUNCTION quote_coverages_editable_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_quote  uuid;
    v_status quote_status;
BEGIN
    SELECT q.id, q.status INTO v_quote, v_status
    FROM quotes q
    WHERE q.id = ANY (ARRAY[OLD.quote_id, NEW.quote_id])
      AND q.status NOT IN ('draft', 'rated')
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_coverages_editable',
            MESSAGE = format('coverages of quote %s cannot change: quote is %s', v_quote, v_status),
            DETAIL = 'coverage lines change only while the quote is draft or rated';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$fn$;

COMMENT ON FUNCTION quote_coverages_editable_fn() IS 'Trigger function of quote_coverages_editable.';

CREATE TRIGGER quote_coverages_editable
    BEFORE INSERT OR UPDATE OR DELETE ON quote_coverages
    FOR EACH ROW EXECUTE FUNCTION quote_coverages_editable_fn();
COMMENT ON TRIGGER quote_coverages_editable ON quote_coverages IS
    'A quote''s coverage lines can be added, changed or removed only while the quote is draft or rated.';

-- ---------------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON users, drivers, vehicles, quotes, quote_coverages TO quotedb_app;
GRANT SELECT ON quote_status_transitions TO quotedb_app;
GRANT SELECT, INSERT ON quote_versions TO quotedb_app;
GRANT SELECT ON users, drivers, vehicles, quotes, quote_status_transitions, quote_versions, quote_coverages
    TO quotedb_readonly;
