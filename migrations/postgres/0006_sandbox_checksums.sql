-- The checksums each open sandbox awaits: a file may be uploaded only while a sandbox of
-- its org announced it (committing or sweeping the sandbox removes its rows).

CREATE TABLE sandbox_checksums (
    sandbox_id TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    checksum TEXT NOT NULL,
    PRIMARY KEY (sandbox_id, checksum)
);
CREATE INDEX sandbox_checksums_org ON sandbox_checksums(org_id, checksum);

INSERT INTO sandbox_checksums (sandbox_id, org_id, checksum)
    SELECT s.id, s.org_id, j.value FROM sandboxes s, jsonb_array_elements_text(s.checksums::jsonb) j WHERE true
    ON CONFLICT DO NOTHING;
