-- Guide management on the desk (issue 14): the profile fields the server keeps (bio, photo
-- address, emergency contact, days off as JSON [TimeOff]) and a guide's role on a departure.
-- Columns are the serde fields of tourdesk_domain::entities::{Guide, GuideAssignment}.
ALTER TABLE guides ADD COLUMN bio TEXT;
ALTER TABLE guides ADD COLUMN photo_url TEXT;
ALTER TABLE guides ADD COLUMN emergency_contact TEXT;
ALTER TABLE guides ADD COLUMN time_off TEXT NOT NULL DEFAULT '[]';  -- JSON [TimeOff]

ALTER TABLE guide_assignments ADD COLUMN role TEXT NOT NULL DEFAULT 'lead';
ALTER TABLE guide_assignments ADD COLUMN override_reason TEXT;
