"""The tables of world.db. Services read them; only the builder writes them."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 4  # 4: tron_blocks keeps no witness signature

# Ledger tables carry no secondary index while the builder streams rows into them;
# INDEXES are created once at the end, which is several times faster than keeping
# them up to date row by row.
TABLES = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE actors (
    id TEXT PRIMARY KEY,          -- scenario id, "<group>-<n>" for group members, "bg-<n>" background
    grp TEXT NOT NULL,            -- the scenario actor (group) it came from, "background" otherwise
    role TEXT NOT NULL,
    kind TEXT NOT NULL,           -- person | organisation
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    birth_date TEXT,
    nationality TEXT,
    country TEXT,
    city TEXT,
    street TEXT,
    document_number TEXT,
    iban TEXT,
    locale TEXT NOT NULL,
    opsec TEXT NOT NULL,          -- JSON list of OPSEC traits
    exchange_id TEXT,             -- the exchange this actor banks with
    domain TEXT,                  -- exchanges: their .test name
    background INTEGER NOT NULL
);
CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    operator_id TEXT,
    address TEXT NOT NULL UNIQUE, -- the .onion or .test host name
    onion_seed BLOB,              -- ed25519 seed of the onion service key (NULL for .test)
    onion_public_key BLOB,
    server_ip TEXT NOT NULL,      -- the "real" IP behind the service, for planted leaks
    analytics_id TEXT,
    config TEXT NOT NULL          -- JSON: the scenario's content knobs and mistakes
);
CREATE TABLE wallets (
    id INTEGER PRIMARY KEY,
    actor_id TEXT NOT NULL,
    kind TEXT NOT NULL,           -- personal | stash | hot | deposit | escrow | donation | mixer | mining | ...
    site_id TEXT,
    label TEXT                    -- public service label, NULL when not public
);
CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    wallet_id INTEGER NOT NULL,
    type TEXT NOT NULL,           -- p2wpkh | p2pkh | p2sh
    secret BLOB NOT NULL,         -- secp256k1 private key
    purpose TEXT                  -- why it exists: receive, change, deposit:<customer>, donation, ...
);
CREATE TABLE blocks (
    height INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    merkle_root TEXT NOT NULL,
    time INTEGER NOT NULL,
    version INTEGER NOT NULL,
    bits INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    tx_count INTEGER NOT NULL
);
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    txid TEXT NOT NULL,
    height INTEGER NOT NULL,
    position INTEGER NOT NULL,    -- index in its block
    raw BLOB NOT NULL,            -- serialization without witness: exactly the bytes the txid hashes
    fee INTEGER NOT NULL,
    kind TEXT NOT NULL,           -- coinbase | payment | deposit | sweep | withdrawal | ...
    flow_id TEXT                  -- the scenario flow this transaction belongs to
);
CREATE TABLE outputs (
    tx_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    value INTEGER NOT NULL,       -- satoshis
    address_id INTEGER NOT NULL,
    PRIMARY KEY (tx_id, n)
) WITHOUT ROWID;
CREATE TABLE scripthashes (
    hash BLOB PRIMARY KEY,        -- SHA-256 of the address's output script (Esplora's scripthash)
    address_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE inputs (
    tx_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    prev_tx_id INTEGER NOT NULL,
    prev_n INTEGER NOT NULL,
    PRIMARY KEY (tx_id, n)
) WITHOUT ROWID;
CREATE TABLE flow_events (
    flow_id TEXT NOT NULL,
    tx_id INTEGER NOT NULL,
    step TEXT NOT NULL,           -- e.g. donation, sweep, hop-3, payout
    source_id TEXT,
    target_id TEXT,
    amount INTEGER NOT NULL
);
CREATE TABLE pgp_keys (
    fingerprint TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created INTEGER NOT NULL,
    public_armored TEXT NOT NULL,
    secret_armored TEXT NOT NULL
);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    handle TEXT NOT NULL,
    role TEXT NOT NULL,           -- vendor | buyer | admin | member | operator
    joined INTEGER NOT NULL,
    bio TEXT NOT NULL,
    location TEXT,
    email TEXT,
    pgp_fingerprint TEXT,
    btc_address_id INTEGER,       -- a published receiving address (vendors, donation sites)
    sales INTEGER NOT NULL DEFAULT 0,
    rating REAL
);
CREATE TABLE listings (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    price_btc REAL NOT NULL,
    price_xmr REAL,
    ships_from TEXT,
    ships_to TEXT,
    stock INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    listing_id INTEGER,
    filename TEXT NOT NULL,
    subject TEXT NOT NULL,        -- what the picture shows, for rendering
    gps_lat REAL,                 -- EXIF fields; NULL when the photo was scrubbed
    gps_lon REAL,
    camera_make TEXT,
    camera_model TEXT,
    camera_serial TEXT,
    taken INTEGER
);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    listing_id INTEGER NOT NULL,
    buyer_handle TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE boards (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    board_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    thread_id INTEGER,            -- NULL on social and paste sites
    account_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,        -- the wiki or search site listing it
    target_site_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL
);
CREATE TABLE exchange_accounts (
    exchange_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,       -- the customer
    account_id TEXT NOT NULL,     -- the exchange's own reference, e.g. "CV-0041937"
    opened INTEGER NOT NULL,      -- unix time, before the customer's first deposit
    tier TEXT NOT NULL,
    kyc_level INTEGER NOT NULL,   -- 2: ID document checked, 3: also address and source of funds
    status TEXT NOT NULL,         -- active | dormant
    bank_iban TEXT,               -- the linked bank account for fiat in and out
    PRIMARY KEY (exchange_id, actor_id)
);
CREATE TABLE exchange_logins (
    exchange_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    time INTEGER NOT NULL,
    ip TEXT NOT NULL,             -- documentation ranges only (RFC 5737, 2001:db8::/32)
    user_agent TEXT NOT NULL,
    country TEXT NOT NULL         -- geolocation of the IP, ISO code
);
CREATE TABLE seats (              -- format v2 courses; empty for a world without objectives
    n INTEGER PRIMARY KEY,        -- 1..count
    code TEXT NOT NULL UNIQUE,    -- what a trainee types to join, e.g. "KT4-9QX" (no 0/O/1/I/L)
    bindings TEXT NOT NULL,       -- JSON {variable: actor or site id}, e.g. {"subject": "vendors-3"}
    wallet_address TEXT,          -- the seat's funded training wallet (NULL when wallet: 0)
    wallet_wif TEXT,              -- its private key, WIF (the trainee is given it)
    tron_address TEXT,            -- the seat's Tron training wallet (NULL without Tron)
    tron_key TEXT                 -- its private key, 64 hex digits
);
CREATE TABLE objectives (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,    -- 0-based order
    points INTEGER NOT NULL,
    compare TEXT NOT NULL,
    tolerance REAL NOT NULL,
    tolerance_relative INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    accept TEXT NOT NULL DEFAULT '[]' -- JSON list: answers accepted besides the seat's key
);
CREATE TABLE seat_objectives (    -- THE ANSWER KEY: never served to trainees
    seat INTEGER NOT NULL,
    objective_id TEXT NOT NULL,
    question TEXT NOT NULL,       -- placeholders filled for this seat
    answer TEXT NOT NULL,         -- JSON: a string, a number, a list (set), or
                                  -- {"spend_from": [...], "pay_to": "..."} (sweep)
    PRIMARY KEY (seat, objective_id)
);
CREATE TABLE hints (
    seat INTEGER NOT NULL,
    objective_id TEXT NOT NULL,
    position INTEGER NOT NULL,    -- 0-based order
    text TEXT NOT NULL,           -- placeholders filled for this seat
    cost INTEGER NOT NULL,
    PRIMARY KEY (seat, objective_id, position)
);
CREATE TABLE injects (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,    -- 0-based order
    trigger TEXT NOT NULL,        -- "at" | "solved" | "manual" | "disclosed"
    at_minutes REAL,              -- trigger at
    objective_id TEXT,            -- trigger solved
    action TEXT NOT NULL,
    config TEXT NOT NULL          -- JSON {"<seat n>": {text, title, site, site_address, actor,
                                  --   to, to_address, amount}}: world ids, placeholders filled
);
CREATE TABLE artefacts (
    seat INTEGER NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,    -- 0-based order
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    filename TEXT NOT NULL,       -- e.g. brief.md, phone-notes.txt, screenshot.png
    mime TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (seat, id)
);
CREATE TABLE course_texts (      -- trainee-facing texts the scenario gives in several languages
    seat INTEGER NOT NULL,        -- 0: the same for every seat (title, summary)
    item TEXT NOT NULL,           -- title | summary | question:<objective> |
                                  -- hint:<objective>:<position> | artefact-title:<id> |
                                  -- artefact:<id> (a brief's or note's whole file)
    language TEXT NOT NULL,       -- one of meta.languages; the default language's version is
                                  -- also in the table the text comes from
    text TEXT NOT NULL,           -- placeholders filled for the seat
    PRIMARY KEY (seat, item, language)
);
CREATE TABLE requesters (         -- who may ask the exchanges' law-enforcement portals
    id TEXT PRIMARY KEY,          -- seat-<n> | instructor | analyst (a world without seats)
    seat INTEGER,                 -- the seat it belongs to, NULL for instructor and analyst
    role TEXT NOT NULL,           -- seat (sees its own requests) | instructor (all) | analyst
    agency TEXT NOT NULL,
    officer_name TEXT NOT NULL,
    officer_email TEXT NOT NULL,
    login TEXT NOT NULL UNIQUE,   -- the portal's web login, e.g. seat03
    password TEXT NOT NULL,       -- plain: the seat's papers print it (world is instructor-only)
    token TEXT NOT NULL UNIQUE    -- the JSON API's bearer token
);
-- The Tron-format chain (sandbox/tron/sim). Addresses in T... form, times in ms.
CREATE TABLE tron_witnesses (     -- the block producers; block n is made by position n % count
    address TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret BLOB NOT NULL,         -- its secp256k1 key, which signs its blocks
    position INTEGER NOT NULL
);
CREATE TABLE tron_accounts (      -- every address of the world with a key
    address TEXT PRIMARY KEY,
    actor_id TEXT,                -- who holds the key (NULL for none of the actors)
    wallet TEXT NOT NULL,         -- personal | deposit | hot | energy | treasury | otc | p2p | ...
    purpose TEXT,                 -- why it exists: receive, deposit:<customer>, peel-hop, ...
    secret BLOB NOT NULL,
    label TEXT,                   -- public label (exchange hot wallets, the issuer), NULL if none
    created_block INTEGER,        -- the block of its activation, NULL while never activated
    activated_by TEXT             -- who activated it (the first TRX sender), NULL if none
);
-- No block's witness signature is kept (format 4): a reader makes it again from the witness's
-- key in tron_witnesses (sandbox.tron.block.witness_signature; RFC 6979, the same bytes).
CREATE TABLE tron_blocks (        -- the blocks with transactions; empty ones are derived
    number INTEGER PRIMARY KEY,
    block_id TEXT NOT NULL UNIQUE,
    parent_id TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    witness TEXT NOT NULL,
    tx_trie_root TEXT NOT NULL,
    tx_count INTEGER NOT NULL
);
CREATE TABLE tron_txs (
    id INTEGER PRIMARY KEY,
    txid TEXT NOT NULL UNIQUE,
    block INTEGER NOT NULL,
    position INTEGER NOT NULL,    -- index in its block
    raw BLOB NOT NULL,            -- the raw_data protobuf: exactly the bytes the txid hashes
    signature BLOB NOT NULL,      -- 65 bytes r || s || v (several signatures concatenated)
    type TEXT NOT NULL,           -- TransferContract | TriggerSmartContract | ...
    owner TEXT NOT NULL,
    to_address TEXT,              -- TRX receiver, the contract called, the delegatee
    amount INTEGER,               -- sun (TRX transfers, stakes, delegations)
    result TEXT NOT NULL,         -- SUCCESS | REVERT | OUT_OF_ENERGY ...
    fee INTEGER NOT NULL,         -- sun burnt in all
    net_usage INTEGER NOT NULL,
    net_fee INTEGER NOT NULL,
    energy_usage INTEGER NOT NULL,
    energy_fee INTEGER NOT NULL,
    energy_usage_total INTEGER NOT NULL,
    origin_energy_usage INTEGER NOT NULL,
    contract_result BLOB,
    timestamp INTEGER NOT NULL    -- the block's time
);
CREATE TABLE tron_logs (
    tx_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    address TEXT NOT NULL,        -- the contract that emitted it
    topics TEXT NOT NULL,         -- JSON list of 64-digit hex topics
    data BLOB NOT NULL,
    PRIMARY KEY (tx_id, idx)
) WITHOUT ROWID;
CREATE TABLE trc20_transfers (    -- the Transfer events, decoded
    tx_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,         -- the log's index in its transaction
    contract TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_address TEXT NOT NULL,
    value INTEGER NOT NULL,       -- in the token's smallest unit (USDT: 10^-6)
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (tx_id, idx)
) WITHOUT ROWID;
CREATE TABLE tron_state (         -- every account at the world's end
    address TEXT PRIMARY KEY,
    account TEXT NOT NULL         -- JSON, sandbox.tron.state.Account.to_json()
);
CREATE TABLE tron_contracts (     -- contract state at the world's end
    address TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    state TEXT NOT NULL           -- JSON
);
CREATE TABLE swap_legs (          -- each chain's legs of the swap orders, as its simulation made them
    order_id TEXT NOT NULL,
    leg TEXT NOT NULL,            -- deposit | payout
    chain TEXT NOT NULL,          -- btc | tron
    tx_id INTEGER NOT NULL,       -- transactions.id (btc) or tron_txs.id (tron)
    address_id INTEGER,           -- btc: addresses.id
    address TEXT,                 -- tron: the T-address
    amount INTEGER NOT NULL,      -- satoshis or USDT units (10^-6)
    time INTEGER NOT NULL         -- unix seconds the leg was due
);
CREATE TABLE swap_orders (        -- the swap services' records: both legs of each order, joined
    order_id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    created INTEGER NOT NULL,     -- unix seconds
    rate REAL NOT NULL,           -- USDT per BTC, before the fee
    fee REAL NOT NULL,
    payer_id TEXT NOT NULL,
    payee_id TEXT NOT NULL,
    deposit_chain TEXT NOT NULL,
    deposit_asset TEXT NOT NULL,
    deposit_address TEXT NOT NULL,
    deposit_txid TEXT NOT NULL,
    deposit_amount INTEGER NOT NULL,
    payout_chain TEXT NOT NULL,
    payout_asset TEXT NOT NULL,
    payout_address TEXT NOT NULL,
    payout_txid TEXT NOT NULL,
    payout_amount INTEGER NOT NULL,
    payout_time INTEGER NOT NULL
);
CREATE TABLE tron_flow_events (   -- the story's Tron payments, like flow_events on the ledger
    flow_id TEXT NOT NULL,
    tx_id INTEGER NOT NULL,
    step TEXT NOT NULL,
    source_id TEXT,
    target_id TEXT,
    asset TEXT NOT NULL,          -- USDT | TRX
    amount INTEGER NOT NULL,      -- in the asset's smallest unit (10^-6)
    to_address TEXT NOT NULL
);
"""

INDEXES = """
CREATE UNIQUE INDEX idx_addresses_address ON addresses(address);
CREATE INDEX idx_addresses_wallet ON addresses(wallet_id);
CREATE UNIQUE INDEX idx_blocks_hash ON blocks(hash);
CREATE UNIQUE INDEX idx_transactions_txid ON transactions(txid);
CREATE INDEX idx_transactions_height ON transactions(height, position);
CREATE INDEX idx_outputs_address ON outputs(address_id, tx_id);
CREATE INDEX idx_inputs_prev ON inputs(prev_tx_id, prev_n);
CREATE INDEX idx_flow_events_flow ON flow_events(flow_id);
CREATE INDEX idx_accounts_site ON accounts(site_id);
CREATE INDEX idx_listings_site ON listings(site_id, category);
CREATE INDEX idx_posts_thread ON posts(thread_id);
CREATE INDEX idx_exchange_logins ON exchange_logins(exchange_id, actor_id, time);
CREATE INDEX idx_tron_txs_owner ON tron_txs(owner, id);
CREATE INDEX idx_tron_txs_to ON tron_txs(to_address, id);
CREATE INDEX idx_tron_txs_block ON tron_txs(block, position);
CREATE INDEX idx_trc20_from ON trc20_transfers(from_address, timestamp);
CREATE INDEX idx_trc20_to ON trc20_transfers(to_address, timestamp);
CREATE INDEX idx_trc20_contract ON trc20_transfers(contract, timestamp);
CREATE INDEX idx_tron_flow_events_flow ON tron_flow_events(flow_id);
CREATE INDEX idx_swap_orders_deposit ON swap_orders(deposit_address);
CREATE INDEX idx_swap_orders_payout ON swap_orders(payout_address);
"""

# Tables whose rows the world's digest covers, with the column order that sorts them.
DIGEST_ORDER = {
    "meta": "key",
    "actors": "id",
    "sites": "id",
    "wallets": "id",
    "addresses": "id",
    "blocks": "height",
    "transactions": "id",
    "outputs": "tx_id, n",
    "inputs": "tx_id, n",
    "scripthashes": "hash",
    "flow_events": "rowid",
    "pgp_keys": "fingerprint",
    "accounts": "id",
    "listings": "id",
    "photos": "id",
    "feedback": "id",
    "boards": "id",
    "threads": "id",
    "posts": "id",
    "links": "id",
    "exchange_accounts": "exchange_id, actor_id",
    "exchange_logins": "exchange_id, actor_id, time, ip",
    "seats": "n",
    "objectives": "id",
    "seat_objectives": "seat, objective_id",
    "hints": "seat, objective_id, position",
    "injects": "id",
    "artefacts": "seat, id",
    "course_texts": "seat, item, language",
    "requesters": "id",
    "tron_witnesses": "address",
    "tron_accounts": "address",
    "tron_blocks": "number",
    "tron_txs": "id",
    "tron_logs": "tx_id, idx",
    "trc20_transfers": "tx_id, idx",
    "tron_state": "address",
    "tron_contracts": "address",
    "tron_flow_events": "rowid",
    "swap_legs": "order_id, leg",
    "swap_orders": "order_id",
}


def create_tables(conn: sqlite3.Connection) -> None:
    """Create every table of an empty world."""
    conn.executescript(TABLES)


def create_staging_tables(conn: sqlite3.Connection) -> None:
    """The tables of an empty world without their UNIQUE constraints, for a file that one
    part of the build fills and the world copies its rows from (the world's own tables
    check them then: checking them twice would build each of those indexes twice)."""
    conn.executescript(TABLES.replace(" UNIQUE", ""))


def create_indexes(conn: sqlite3.Connection) -> None:
    """Create the secondary indexes once the rows are in."""
    conn.executescript(INDEXES)
