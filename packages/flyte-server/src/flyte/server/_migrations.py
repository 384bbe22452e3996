"""The metadata schema, as numbered migrations applied in order (never edited once released).

Times are Unix seconds (REAL). Protobuf messages the server only hands back (task specs, run
specs, errors) are stored serialized; everything a query filters or sorts on is a column.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE projects (
            org        TEXT NOT NULL,
            name       TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (org, name)
        );

        CREATE TABLE tasks (
            org         TEXT NOT NULL,
            project     TEXT NOT NULL,
            domain      TEXT NOT NULL,
            name        TEXT NOT NULL,
            version     TEXT NOT NULL,
            spec        BLOB NOT NULL,
            spec_digest TEXT NOT NULL,
            short_name  TEXT NOT NULL,
            environment TEXT NOT NULL,
            deployed_at REAL NOT NULL,
            PRIMARY KEY (org, project, domain, name, version)
        );
        CREATE INDEX tasks_by_project ON tasks (org, project, domain, deployed_at);

        CREATE TABLE runs (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            org        TEXT NOT NULL,
            project    TEXT NOT NULL,
            domain     TEXT NOT NULL,
            name       TEXT NOT NULL,
            run_spec   BLOB NOT NULL,
            base_dir   TEXT NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (org, project, domain, name)
        );
        CREATE INDEX runs_by_project ON runs (org, project, domain, created_at);

        CREATE TABLE actions (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id       INTEGER NOT NULL REFERENCES runs (id),
            name         TEXT NOT NULL,
            parent       TEXT,
            task_org     TEXT NOT NULL,
            task_project TEXT NOT NULL,
            task_domain  TEXT NOT NULL,
            task_name    TEXT NOT NULL,
            task_version TEXT NOT NULL,
            task_spec    BLOB NOT NULL,
            input_uri    TEXT NOT NULL,
            phase        INTEGER NOT NULL,
            attempts     INTEGER NOT NULL DEFAULT 0,
            error        BLOB,
            abort_reason TEXT,
            created_at   REAL NOT NULL,
            started_at   REAL,
            ended_at     REAL,
            updated_at   REAL NOT NULL,
            UNIQUE (run_id, name)
        );
        CREATE INDEX actions_by_phase ON actions (phase);

        CREATE TABLE attempts (
            action_id   INTEGER NOT NULL REFERENCES actions (id),
            attempt     INTEGER NOT NULL,
            phase       INTEGER NOT NULL,
            outputs_uri TEXT NOT NULL,
            log_dir     TEXT NOT NULL,
            error       BLOB,
            exit_code   INTEGER,
            started_at  REAL NOT NULL,
            ended_at    REAL,
            PRIMARY KEY (action_id, attempt)
        );
        """,
    ),
    (
        2,
        # Child actions (QueueService.EnqueueAction): traces besides tasks, the flyte.group they
        # were created in, and the outputs a trace recorded; children are looked up by parent.
        """
        ALTER TABLE actions ADD COLUMN action_type INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE actions ADD COLUMN group_name TEXT;
        ALTER TABLE actions ADD COLUMN output_uri TEXT;
        CREATE INDEX actions_by_parent ON actions (run_id, parent);
        """,
    ),
    (
        3,
        # The Project and Secret services: a project's display name, description, labels and state
        # (active or archived), the default project, and secrets sealed with AES-GCM (the value
        # column holds version byte + nonce + ciphertext, never the plaintext).
        """
        ALTER TABLE projects ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE projects ADD COLUMN description TEXT NOT NULL DEFAULT '';
        ALTER TABLE projects ADD COLUMN labels BLOB;
        ALTER TABLE projects ADD COLUMN state INTEGER NOT NULL DEFAULT 0;
        INSERT OR IGNORE INTO projects (org, name, created_at, display_name, description)
            VALUES ('', 'flytesnacks', (julianday('now') - 2440587.5) * 86400.0, 'flytesnacks',
                    'The default project');

        CREATE TABLE secrets (
            org        TEXT NOT NULL,
            project    TEXT NOT NULL,
            domain     TEXT NOT NULL,
            name       TEXT NOT NULL,
            type       INTEGER NOT NULL,
            is_binary  INTEGER NOT NULL,
            sealed     BLOB NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (org, project, domain, name)
        );
        """,
    ),
)
