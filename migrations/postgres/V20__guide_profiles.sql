-- Guide management on the desk (issue 14): what a guide's profile holds beyond V2's columns,
-- and a guide's role on a departure.
--
-- `bio` and `photo` exist since V2 (`photo` holds the photo's https address, domain
-- `Guide::photo_url`). `time_off` is the domain's `[TimeOff]`: whole days, in the guide's zone.
ALTER TABLE guides
    ADD COLUMN emergency_contact TEXT,
    ADD COLUMN time_off JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(time_off) = 'array');

-- One lead and any number of assistants per departure; assignments made before are leads.
-- `override_reason` is set when a manager assigned the guide despite conflicts (the conflicts
-- and the reason are in the audit log, action `guide_assignment.overridden`).
ALTER TABLE schedule_guide_assignments
    ADD COLUMN role TEXT NOT NULL DEFAULT 'lead' CHECK (role IN ('lead', 'assistant')),
    ADD COLUMN override_reason TEXT;
