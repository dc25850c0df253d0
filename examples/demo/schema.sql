-- The demo schema, created alike on the source and the target. Every
-- primary key (the replica identity) starts with tenant_id, so the stream's
-- row filter (tenant_id = 'x') is allowed on updates and deletes.
CREATE SCHEMA IF NOT EXISTS demo;

CREATE TABLE demo.customers (
    tenant_id  text NOT NULL,
    id         bigint NOT NULL,
    name       text NOT NULL,
    email      text,
    balance    numeric(14, 2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    profile    jsonb,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE demo.orders (
    tenant_id   text NOT NULL,
    id          bigint NOT NULL,
    customer_id bigint NOT NULL,
    status      text NOT NULL,
    total       numeric(12, 2) NOT NULL,
    placed_at   timestamptz NOT NULL,
    items       jsonb NOT NULL,
    note        text,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE demo.events (
    tenant_id text NOT NULL,
    id        bigint NOT NULL,
    kind      text NOT NULL,
    at        timestamptz NOT NULL,
    score     double precision,
    flagged   boolean NOT NULL DEFAULT false,
    payload   jsonb,
    PRIMARY KEY (tenant_id, id)
);
