//! `check_in.v1` and `mark_no_show.v1`: attendance facts (see the module docs of `bookings`).

use super::*;

/// Arguments of `check_in.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInV1 {
    /// A UUID made by the recording device; it becomes the fact's id.
    pub nonce: String,
    pub booking_id: String,
    pub departure_id: String,
    pub participant: u32,
    pub at: DateTime<Utc>,
}

/// Arguments of `mark_no_show.v1`; the same shape as a check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkNoShowV1 {
    pub nonce: String,
    pub booking_id: String,
    pub departure_id: String,
    pub participant: u32,
    pub at: DateTime<Utc>,
}

/// Each participant's standing attendance from a booking's facts: per participant the latest
/// fact wins, a check-in beating a no-show at the same instant, then the larger id. A function
/// of the set only, so the order facts arrive in does not matter. Manifests show this.
pub fn attendance_by_participant(facts: &[CheckIn]) -> BTreeMap<u32, CheckInKind> {
    let mut last: BTreeMap<u32, &CheckIn> = BTreeMap::new();
    let rank = |c: &CheckIn| (c.at, c.kind == CheckInKind::CheckedIn, c.id.clone());
    for f in facts {
        match last.get(&f.participant) {
            Some(cur) if rank(cur) >= rank(f) => {}
            _ => {
                last.insert(f.participant, f);
            }
        }
    }
    last.into_iter().map(|(p, c)| (p, c.kind)).collect()
}

/// `(checked in, no-shows)` of a booking from its attendance facts; see
/// [`attendance_by_participant`].
pub fn attendance(facts: &[CheckIn]) -> (u32, u32) {
    let last = attendance_by_participant(facts);
    let checked_in = last.values().filter(|k| **k == CheckInKind::CheckedIn).count();
    let total = last.len();
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    (n(checked_in), n(total - checked_in))
}

fn attendance_reads(booking_id: &str, departure_id: &str) -> Vec<ReadKey> {
    let booking_id = norm_ref(booking_id);
    vec![
        ReadKey::Booking(booking_id.clone()),
        ReadKey::CheckInsOfBooking(booking_id),
        ReadKey::DepartureGuides(norm_ref(departure_id)),
        ReadKey::GuideRemovals(norm_ref(departure_id)),
    ]
}

#[allow(clippy::too_many_arguments)]
fn record_attendance(
    view: &dyn ReadView,
    ctx: &MutationCtx,
    kind: CheckInKind,
    nonce: &str,
    booking_id: &str,
    departure_id: &str,
    participant: u32,
    at: DateTime<Utc>,
) -> Result<Vec<Change>, ApplyError> {
    let nonce = validate::id("nonce", nonce)?;
    let booking_id = validate::row_ref("booking_id", booking_id)?;
    let departure_id = validate::row_ref("departure_id", departure_id)?;
    // Staff who may change bookings may record attendance anywhere; a guide only on a departure
    // they led when they recorded it (`at`, the device's time) — which only the store knows,
    // hence the reads. A guide taken off the departure while offline still delivers what they
    // recorded before.
    if !ctx.role.can(Permission::BookingsWrite) {
        let leads = ctx.role == Role::Guide
            && crate::guides::led_at(
                &view.departure_guides(&departure_id)?,
                &view.guide_removals(&departure_id)?,
                &ctx.user_id,
                at,
            );
        if !leads {
            return Err(Rejection::NotAuthorized { action: "record attendance on this departure".into() }.into());
        }
    }
    if at > ctx.now + MAX_CLOCK_SKEW {
        return Err(Rejection::ClockSkew { field: "at".into(), stamp: at.to_rfc3339() }.into());
    }
    let mut b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
    if b.departure_id != departure_id {
        return Err(FieldError::new("departure_id", "is not the booking's departure").into());
    }
    if b.status == BookingStatus::Cancelled {
        return Err(Rejection::conflict("booking_id", format!("booking {} is cancelled", b.reference_number)).into());
    }
    if participant >= b.participant_count() {
        return Err(
            FieldError::new("participant", format!("the booking has {} participants", b.participant_count())).into()
        );
    }
    let mut facts = view.check_ins_of_booking(&booking_id)?;
    if facts.iter().any(|f| f.id == nonce) {
        return Ok(vec![]);
    }
    let fact = CheckIn {
        id: nonce,
        organization_id: ctx.organization_id.clone(),
        booking_id,
        departure_id,
        participant,
        kind,
        at,
        recorded_by: ctx.user_id.clone(),
    };
    facts.push(fact.clone());
    let mut changes = vec![Change::PutCheckIn(fact)];
    let (checked_in, no_shows) = attendance(&facts);
    if (checked_in, no_shows) != (b.checked_in, b.no_shows) {
        b.checked_in = checked_in;
        b.no_shows = no_shows;
        changes.push(Change::PutBooking(b));
    }
    Ok(changes)
}

impl Mutator for CheckInV1 {
    fn reads(&self) -> Vec<ReadKey> {
        attendance_reads(&self.booking_id, &self.departure_id)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let a = self;
        record_attendance(
            view,
            ctx,
            CheckInKind::CheckedIn,
            &a.nonce,
            &a.booking_id,
            &a.departure_id,
            a.participant,
            a.at,
        )
    }
}

impl Mutator for MarkNoShowV1 {
    fn reads(&self) -> Vec<ReadKey> {
        attendance_reads(&self.booking_id, &self.departure_id)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let a = self;
        record_attendance(view, ctx, CheckInKind::NoShow, &a.nonce, &a.booking_id, &a.departure_id, a.participant, a.at)
    }
}
