//! The audit log's table: one row per entry (when, who, from which device, what, on which
//! entity) with its before/after as a field-by-field difference in words
//! (`tourdesk_domain::audit::diff`), and a link to the entity where the desk has a page for it.

use std::collections::BTreeMap;

use tourdesk_domain::audit::{AuditRecord, FieldChange, NamedAudit, Reading, action_words, diff_read, humanise};
use yew::prelude::*;

use crate::components::virtual_rows::{aria_rowindex, use_virtual_rows};
use crate::router::{Route, navigate};

/// Names for the ids an entry carries: people and devices, from the staff and device lists
/// when the server could be asked, and from what this desk holds ([`AuditNames::with_desk`]):
/// staff named in its replica and its own device id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditNames {
    pub people: BTreeMap<String, String>,
    pub devices: BTreeMap<String, String>,
    /// The id the server registered for this desk.
    pub this_device: Option<String>,
}

impl AuditNames {
    /// These (the server's) names, with the desk's for whoever the server's lists lack: offline
    /// the server's are empty and the desk's are all there is.
    pub fn with_desk(self, desk: &NamedAudit) -> AuditNames {
        self.with_desk_names(&desk.people, desk.this_device.as_deref())
    }

    /// [`AuditNames::with_desk`] from the names and device id alone (a booking's timeline
    /// carries them too).
    pub fn with_desk_names(mut self, people: &BTreeMap<String, String>, this_device: Option<&str>) -> AuditNames {
        for (id, name) in people {
            self.people.entry(id.clone()).or_insert_with(|| name.clone());
        }
        self.this_device = this_device.map(String::from);
        self
    }

    /// Who in words for a table: [`AuditNames::person`], and a member of staff whose name this
    /// desk does not know as such, never their id.
    pub fn person_words(&self, actor: &str) -> String {
        let p = self.person(actor);
        if p == actor && !self.people.contains_key(actor) { "Staff member".into() } else { p }
    }

    /// A device in words for a table: its name from the server's list, "This desk" for this
    /// one, "Another device" for one this desk cannot name, "—" for none (the website, Stripe,
    /// Tourdesk's own jobs).
    pub fn device_words(&self, id: Option<&str>) -> String {
        match id {
            None => "—".into(),
            Some(id) => match self.devices.get(id) {
                Some(name) => name.clone(),
                None if self.this_device.as_deref() == Some(id) => "This desk".into(),
                None => "Another device".into(),
            },
        }
    }

    /// A device as a filter offers it: in words, and told apart by the start of its id when
    /// this desk cannot name it (two unnamed devices are two choices).
    pub fn device_choice(&self, id: &str) -> String {
        match self.device_words(Some(id)) {
            w if w == "Another device" => format!("Another device ({})", short(id)),
            w => w,
        }
    }

    /// A person as a filter offers it, told apart like [`AuditNames::device_choice`].
    pub fn person_choice(&self, actor: &str) -> String {
        match self.person_words(actor) {
            w if w == "Staff member" => format!("Staff member ({})", short(actor)),
            w => w,
        }
    }

    /// A person in words: a staff member's name, or the non-staff actor (`website`,
    /// `stripe`, `system:hold-expiry`) in words.
    pub fn person(&self, actor: &str) -> String {
        if let Some(n) = self.people.get(actor) {
            return n.clone();
        }
        match actor {
            "website" => "Booking website".into(),
            "stripe" => "Stripe".into(),
            a if a.starts_with("system:") => {
                format!("Tourdesk ({})", a.trim_start_matches("system:").replace('-', " "))
            }
            a if a.starts_with("operator:") => "Operator".into(),
            a => a.into(),
        }
    }
}

/// The entity kind in words (`tour_variant` → `Tour variant`).
pub fn entity_words(entity: &str) -> String {
    humanise(entity)
}

/// The desk page an entry's entity lives on: a tour (its variants, prices and departures are on
/// it), a customer, a booking (by its reference). `None` for what has no page (staff, the
/// organization, a refund).
pub fn entity_route(r: &AuditRecord) -> Option<Route> {
    let field = |name: &str| {
        [r.after.as_ref(), r.before.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|v| v.get(name)?.as_str().map(String::from))
    };
    match r.entity.as_str() {
        "tour" => Some(Route::Tours(Some(r.entity_id.clone()))),
        "tour_variant" | "pricing_tier" | "departure" => field("tour_id").map(|t| Route::Tours(Some(t))),
        "customer" => Some(Route::Customers(Some(r.entity_id.clone()))),
        "booking" => field("reference_number").map(Route::Booking),
        _ => None,
    }
}

#[derive(Properties, PartialEq)]
pub struct DiffListProps {
    pub changes: Vec<FieldChange>,
}

/// Before → after, one line per field.
#[component]
pub fn DiffList(props: &DiffListProps) -> Html {
    if props.changes.is_empty() {
        return html! { <span class="muted">{ "No field changed" }</span> };
    }
    html! {
        <dl class="audit-diff">
            { for props.changes.iter().map(|c| html! {
                <div class="audit-change">
                    <dt>{ &c.field }</dt>
                    <dd>
                        <span class="before">{ &c.before }</span>
                        <span class="arrow" aria-label="changed to">{ " → " }</span>
                        <span class="after">{ &c.after }</span>
                    </dd>
                </div>
            }) }
        </dl>
    }
}

#[derive(Properties, PartialEq)]
pub struct AuditTableProps {
    pub entries: Vec<AuditRecord>,
    #[prop_or_default]
    pub names: AuditNames,
    /// The Entity column; an entity's own history leaves it out (every row is the page's
    /// subject), so its changes fit beside a tour or booking without sideways scrolling.
    #[prop_or(true)]
    pub entity_column: bool,
}

/// Roughly how tall an entry is (a change or two on their own lines), until one is measured.
const AUDIT_ROW_PX: f64 = 72.0;

/// The entries, newest first as given; rows are reachable with the keys (arrows, Page Up/Down,
/// Home, End) and Enter opens the entity's page. The audit screen's 500 entries draw only the
/// rows in view (`components::virtual_rows`); an entity's history (50 at most) draws them all.
/// People and devices read in words, never as ids.
#[component]
pub fn AuditTable(props: &AuditTableProps) -> Html {
    let rows = use_virtual_rows(props.entries.len(), AUDIT_ROW_PX, None);
    let (above, below) = rows.spacers(Some(if props.entity_column { 6 } else { 5 }));
    html! {
        <table class="audit-table" aria-label="Audit log" aria-rowcount={rows.aria_rowcount()}>
            <thead><tr aria-rowindex="1"><th>{ "When" }</th><th>{ "Who" }</th><th>{ "Device" }</th><th>{ "Action" }</th>if props.entity_column { <th>{ "Entity" }</th> }<th>{ "Changes" }</th></tr></thead>
            <tbody ref={rows.body.clone()} onkeydown={rows.on_keydown.clone()}>
            { above }
            { for props.entries[rows.range.clone()].iter().zip(rows.range.clone()).map(|(r, i)| {
                let route = entity_route(r);
                let onclick = route.clone().map(|route| Callback::from(move |_: MouseEvent| navigate(&route)));
                let when = crate::clock::local(r.created_at).format("%a %d %b %Y, %H:%M:%S").to_string();
                let entity = format!("{} {}", entity_words(&r.entity), entity_label(r));
                html! {
                    <tr key={r.id.clone()} class="audit-row" data-id={r.id.clone()} data-row="" tabindex="0" onclick={onclick}
                        data-index={i.to_string()} aria-rowindex={aria_rowindex(i)}>
                        <td class="when"><time datetime={r.created_at.to_rfc3339()}>{ when }</time></td>
                        <td class="who">{ props.names.person_words(&r.actor) }</td>
                        <td class="device">{ props.names.device_words(r.device_id.as_deref()) }</td>
                        <td class="action">{ action_words(&r.action) }</td>
                        if props.entity_column {
                            <td class="entity">
                                if let Some(route) = &route {
                                    <a href={route.to_hash()} tabindex="-1">{ entity }</a>
                                } else {
                                    { entity }
                                }
                            </td>
                        }
                        <td class="changes"><DiffList changes={diff_read(r.before.as_ref(), r.after.as_ref(), Reading { zone: None, people: Some(&props.names.people) })} /></td>
                    </tr>
                }
            }) }
            { below }
            </tbody>
        </table>
    }
}

/// What people call the entity: its name or reference when the entry carries one, else the
/// start of its id.
fn entity_label(r: &AuditRecord) -> String {
    let named = |v: &serde_json::Value| {
        ["reference_number", "name", "email"]
            .iter()
            .find_map(|k| v.get(*k)?.as_str().filter(|s| !s.is_empty()).map(String::from))
    };
    [r.after.as_ref(), r.before.as_ref()]
        .into_iter()
        .flatten()
        .find_map(named)
        .unwrap_or_else(|| short(&r.entity_id).to_string())
}

/// The first part of a long id, enough to tell rows apart.
fn short(id: &str) -> &str {
    if id.len() > 12 && id.is_char_boundary(8) { &id[..8] } else { id }
}

#[cfg(test)]
mod tests {
    use tourdesk_domain::fixtures;

    use super::*;
    use serde_json::json;

    pub(crate) fn entry(
        id: &str,
        entity: &str,
        before: Option<serde_json::Value>,
        after: serde_json::Value,
    ) -> AuditRecord {
        let (booking, at) = ("00000000-0000-4000-8000-0000000b0001", fixtures::at("2026-06-01T10:00:00Z"));
        AuditRecord {
            device_id: Some("dev-1".into()),
            ..fixtures::audit_record(id, "update_booking.v1", entity, booking, before, after, at)
        }
    }

    #[tokio::test]
    async fn an_entry_reads_in_words_and_links_to_its_entity() {
        let booking = entry(
            "7",
            "booking",
            Some(
                json!({"reference_number": "BK-2026-7KQ3XM", "status": "pending", "paid_amount": {"amount": 0, "currency": "EUR"}, "special_requests": null}),
            ),
            json!({"reference_number": "BK-2026-7KQ3XM", "status": "confirmed", "paid_amount": {"amount": 4500, "currency": "EUR"}, "special_requests": "Vegan"}),
        );
        let staff = entry("8", "staff_user", None, json!({"email": "x@y.z", "role": "admin"}));
        let names = AuditNames {
            people: BTreeMap::from([("u-1".into(), "Olivia Owner".into())]),
            devices: BTreeMap::from([("dev-1".into(), "Front desk".into())]),
            ..Default::default()
        };
        let html = yew::LocalServerRenderer::<AuditTable>::with_props(AuditTableProps {
            entries: vec![booking, staff],
            names,
            entity_column: true,
        })
        .render()
        .await;
        for want in [
            "Olivia Owner",
            "Front desk",
            "Update booking",
            "href=\"#/bookings/BK-2026-7KQ3XM\"",
            "Paid amount",
            "€0.00",
            "€45.00",
            "Special requests",
            "—",
            "Vegan",
            "Confirmed",
            "Staff user x@y.z",
            "Booking BK-2026-7KQ3XM",
            "tabindex=\"0\"",
        ] {
            assert!(html.contains(want), "{want}: {html}");
        }
        assert!(!html.contains("paid_amount") && !html.contains("\"amount\""), "no codes: {html}");
        assert_eq!(html.matches("<a ").count(), 1, "a staff change has no page to link to: {html}");
    }

    #[tokio::test]
    async fn a_person_field_shows_a_name_or_is_left_out_never_an_id() {
        let refund = entry(
            "9",
            "refund",
            None,
            json!({"amount": {"amount": 1200, "currency": "EUR"}, "requested_by": "u-1", "approved_by": "0747-unknown"}),
        );
        let names =
            AuditNames { people: BTreeMap::from([("u-1".into(), "Olivia Owner".into())]), ..Default::default() };
        let html = yew::LocalServerRenderer::<AuditTable>::with_props(AuditTableProps {
            entries: vec![refund],
            names,
            entity_column: true,
        })
        .render()
        .await;
        assert!(html.contains("Requested by") && html.contains("<span class=\"after\">Olivia Owner</span>"), "{html}");
        assert!(!html.contains("Approved by") && !html.contains("0747-unknown"), "{html}");
    }

    #[tokio::test]
    async fn offline_the_desks_own_names_read_people_and_devices_in_words_never_ids() {
        let mut by_me = entry("1", "tour", None, json!({"name": "Harbour walk"}));
        (by_me.actor, by_me.device_id) = ("u-owner".into(), Some("dev-here".into()));
        let mut by_mia = entry("2", "tour", None, json!({"name": "Harbour walk", "approved_by": "u-temp"}));
        (by_mia.actor, by_mia.device_id) = ("u-mia".into(), Some("dev-far".into()));
        let mut by_temp = entry("3", "tour", None, json!({"name": "Harbour walk"}));
        (by_temp.actor, by_temp.device_id) = ("u-temp-4f1c9a2e-0000".into(), Some("dev-far".into()));
        let desk = NamedAudit {
            entries: vec![by_me.clone(), by_mia.clone(), by_temp.clone()],
            people: BTreeMap::from([("u-owner".into(), "Olivia Owner".into()), ("u-mia".into(), "Mia Manager".into())]),
            this_device: Some("dev-here".into()),
        };
        // Offline: the server's lists are empty, the desk's names are all there is.
        let names = AuditNames::default().with_desk(&desk);
        let html = yew::LocalServerRenderer::<AuditTable>::with_props(AuditTableProps {
            entries: desk.entries.clone(),
            names: names.clone(),
            entity_column: true,
        })
        .render()
        .await;
        for want in [
            "<td class=\"who\">Olivia Owner</td>",
            "<td class=\"device\">This desk</td>",
            "<td class=\"who\">Mia Manager</td>",
            "<td class=\"device\">Another device</td>",
            "<td class=\"who\">Staff member</td>",
        ] {
            assert!(html.contains(want), "{want}: {html}");
        }
        for id in ["u-owner", "u-mia", "u-temp", "dev-here", "dev-far"] {
            assert!(!html.contains(id), "{id} is an id, not a word: {html}");
        }
        // Online, the server's names come first; the desk's fill in whoever they lack.
        let server = AuditNames {
            people: BTreeMap::from([("u-mia".into(), "Mia M. Manager".into())]),
            devices: BTreeMap::from([("dev-far".into(), "Front desk (Mia M. Manager)".into())]),
            ..Default::default()
        };
        let names = server.with_desk(&desk);
        assert_eq!(names.person_words("u-mia"), "Mia M. Manager");
        assert_eq!(names.person_words("u-owner"), "Olivia Owner");
        assert_eq!(names.device_words(Some("dev-far")), "Front desk (Mia M. Manager)");
        assert_eq!(names.device_words(Some("dev-here")), "This desk");
        // A filter tells two unnamed devices (or people) apart.
        let offline = AuditNames::default().with_desk(&desk);
        assert_eq!(offline.device_choice("dev-far-0000-1111"), "Another device (dev-far-)");
        assert_eq!(offline.person_choice("u-temp-4f1c9a2e-0000"), "Staff member (u-temp-4)");
        assert_eq!(offline.person_choice("website"), "Booking website");
    }

    #[tokio::test]
    async fn five_hundred_entries_draw_the_rows_in_view_and_say_where_each_is() {
        let entries: Vec<AuditRecord> =
            (0..500).map(|i| entry(&i.to_string(), "tour", None, json!({"name": format!("Tour {i:03}")}))).collect();
        let html = yew::LocalServerRenderer::<AuditTable>::with_props(AuditTableProps {
            entries,
            names: AuditNames::default(),
            entity_column: true,
        })
        .render()
        .await;
        let drawn = html.matches("class=\"audit-row\"").count();
        assert!((10..=60).contains(&drawn), "only the rows in view are drawn, not {drawn}");
        assert!(html.contains("aria-rowcount=\"501\""), "every entry and the header: {html}");
        assert!(html.contains("aria-rowindex=\"1\"") && html.contains("aria-rowindex=\"2\""), "{html}");
        assert!(html.contains("Tour 000") && !html.contains("Tour 499"), "{html}");
        assert!(html.contains("colspan=\"6\""), "the spacer spans the table: {html}");
    }

    #[tokio::test]
    async fn an_entitys_own_history_leaves_out_the_entity_column() {
        let e = entry("1", "tour", Some(json!({"name": "Old walk"})), json!({"name": "Harbour walk"}));
        let html = yew::LocalServerRenderer::<AuditTable>::with_props(AuditTableProps {
            entries: vec![e],
            names: AuditNames::default(),
            entity_column: false,
        })
        .render()
        .await;
        assert!(!html.contains(">Entity<") && !html.contains("class=\"entity\""), "{html}");
        assert!(html.contains(">Changes<") && html.contains("Harbour walk"), "{html}");
    }

    #[test]
    fn entities_link_to_the_page_they_live_on() {
        let tier = entry("1", "pricing_tier", None, json!({"tour_id": "t-9"}));
        assert_eq!(entity_route(&tier), Some(Route::Tours(Some("t-9".into()))));
        let customer = entry("2", "customer", None, json!({}));
        assert_eq!(entity_route(&customer), Some(Route::Customers(Some(customer.entity_id.clone()))));
        assert_eq!(entity_route(&entry("3", "refund", None, json!({}))), None);
        let names = AuditNames::default();
        assert_eq!(names.person("website"), "Booking website");
        assert_eq!(names.person("system:hold-expiry"), "Tourdesk (hold expiry)");
        assert_eq!(names.device_words(None), "—");
    }
}
