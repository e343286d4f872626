-- The Compliance API: login tokens, user permissions, teams, and InSpec profiles.

-- Refresh tokens (kind 'refresh': a secret the user keeps, stored only as its SHA-256) and
-- password-login sessions (kind 'session'). Every access token names the row it came
-- from, so revoking the row revokes the access tokens issued from it.
CREATE TABLE compliance_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    description TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX compliance_tokens_user ON compliance_tokens(user_id);

-- Server-wide permissions of a user (absent row: none).
CREATE TABLE compliance_permissions (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    site_admin BOOLEAN NOT NULL DEFAULT FALSE,
    org_admin BOOLEAN NOT NULL DEFAULT FALSE,
    user_admin BOOLEAN NOT NULL DEFAULT FALSE
);

-- Teams of an org other than 'owners' (which is the org's admins group).
-- permissions: JSON object of harden/manage/patch/scan flags.
CREATE TABLE compliance_teams (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE compliance_team_members (
    team_id TEXT NOT NULL REFERENCES compliance_teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX compliance_team_members_user ON compliance_team_members(user_id);

-- Every uploaded version of a profile. owner_id is a user's or an org's id. sha256 is the
-- SHA-256 of the stored tar.gz (what /tar returns, InSpec's cache key); the archive is
-- the blob 'profiles/<sha256>'. metadata holds inspec.yml's fields and the rules.
CREATE TABLE compliance_profiles (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (owner_id, name, version)
);
CREATE INDEX compliance_profiles_sha256 ON compliance_profiles(sha256);
