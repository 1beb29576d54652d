-- A small schema of the test kit's own tests: the kit knows nothing of quotedb's.
CREATE TABLE things (
    code text PRIMARY KEY,
    name text NOT NULL
);
