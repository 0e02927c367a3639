//! Scheduled report e-mails (`#/reports/scheduled`, owners and admins; issue 16 item 4): which
//! report goes to which staff, daily or weekly, from which hour of the organization's day. The
//! server keeps the schedules and sends the mails, so this screen works online, as the settings
//! area does: offline it says it needs a connection and loads again once the desk is back.

use std::collections::BTreeSet;

use tourdesk_domain::accounts::{StaffMember, StaffStatus};
use tourdesk_domain::reports::schedule::{ReportSchedule, ScheduleInput, ScheduleKind};
use tourdesk_domain::roles::{Permission, Role};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::reports::ReportTabs;
use super::settings::{ONLINE, use_generation, use_reconnects};
use crate::components::booking_form::field_error;
use crate::components::settings::{ConfirmBar, STAFF_ROLES, at_field, form_error, load_failed};
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Load, spawn_save, use_invoke_refreshing};
use crate::services;
use crate::state::{Action, use_app};
use crate::words;

/// What the form edits: a new schedule, or the one with this id.
#[derive(Debug, Clone, PartialEq)]
enum Editing {
    New,
    Schedule(ReportSchedule),
}

#[component]
pub fn ReportSchedulesPage() -> Html {
    let app = use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let (generation, reload) = use_generation();
    let reconnects = use_reconnects();
    let loaded = use_invoke_refreshing(ONLINE, (), generation + reconnects, |_| async move {
        let schedules = services::list_report_schedules().await?;
        let staff = services::list_staff().await?.staff;
        Ok((schedules, staff))
    });
    let editing = use_state(|| None::<Editing>);
    let deleting = use_state(|| None::<ReportSchedule>);
    let action_error = use_state(|| None::<UiError>);
    if role.is_some_and(|r| !r.can(Permission::ReportsRead)) {
        return html! {
            <section id="report-schedules" class="page single">
                <h2>{ "Reports" }</h2>
                <EmptyState title="Only owners and admins schedule report e-mails" hint="Reports show the organization's money." />
            </section>
        };
    }
    let on_saved = {
        let (app, reload, editing) = (app.clone(), reload.clone(), editing.clone());
        Callback::from(move |s: ReportSchedule| {
            editing.set(None);
            let title = ScheduleKind::parse(&s.kind).map_or("The report", ScheduleKind::title);
            app.dispatch(Action::Toast(format!("{title} scheduled")));
            reload.emit(());
        })
    };
    let on_delete = {
        let (app, reload, deleting, action_error) =
            (app.clone(), reload.clone(), deleting.clone(), action_error.clone());
        Callback::from(move |()| {
            let Some(s) = (*deleting).clone() else { return };
            deleting.set(None);
            let (app, reload, action_error) = (app.clone(), reload.clone(), action_error.clone());
            spawn_local(async move {
                match services::delete_report_schedule(&s.id).await {
                    Ok(()) => {
                        action_error.set(None);
                        app.dispatch(Action::Toast("Scheduled e-mail stopped".into()));
                        reload.emit(());
                    }
                    Err(e) => action_error.set(Some(e)),
                }
            });
        })
    };
    let body = match loaded {
        Load::Loading => html! { <Loading what="the scheduled e-mails" /> },
        Load::Failed(e) => load_failed("Scheduled e-mails", &e, reload),
        Load::Ready((schedules, staff)) => {
            let open = |which: Editing| {
                let editing = editing.clone();
                Callback::from(move |_: MouseEvent| editing.set(Some(which.clone())))
            };
            let on_edit = {
                let editing = editing.clone();
                Callback::from(move |s: ReportSchedule| editing.set(Some(Editing::Schedule(s))))
            };
            let on_ask_delete = {
                let deleting = deleting.clone();
                Callback::from(move |s: ReportSchedule| deleting.set(Some(s)))
            };
            let on_cancel = {
                let editing = editing.clone();
                Callback::from(move |()| editing.set(None))
            };
            html! {
                <>
                    if editing.is_none() {
                        <div class="actions">
                            <button id="new-report-schedule" onclick={open(Editing::New)}>{ "New scheduled e-mail" }</button>
                        </div>
                    }
                    { match &*editing {
                        Some(Editing::New) => html! {
                            <ScheduleForm staff={staff.clone()} schedule={None::<ReportSchedule>} on_saved={on_saved.clone()} on_cancel={on_cancel.clone()} />
                        },
                        Some(Editing::Schedule(s)) => html! {
                            <ScheduleForm key={s.id.clone()} staff={staff.clone()} schedule={Some(s.clone())} on_saved={on_saved.clone()} on_cancel={on_cancel.clone()} />
                        },
                        None => html! {},
                    } }
                    if let Some(s) = &*deleting {
                        <ConfirmBar question={format!("Stop sending the {}?", ScheduleKind::parse(&s.kind).map_or("report", ScheduleKind::title).to_lowercase())}
                            confirm="Stop sending" on_confirm={on_delete.clone()}
                            on_cancel={{ let d = deleting.clone(); Callback::from(move |()| d.set(None)) }} />
                    }
                    <ScheduleTable schedules={schedules} staff={staff} on_edit={on_edit} on_delete={on_ask_delete} />
                </>
            }
        }
    };
    html! {
        <section id="report-schedules" class="page single">
            <h2>{ "Reports" }</h2>
            <ReportTabs current={None::<tourdesk_domain::reports::ReportKind>} />
            <h3>{ "Scheduled e-mails" }</h3>
            <p class="muted">{ "The server e-mails these summaries to the staff you choose, at the hour you choose in the organization's time zone, whether or not this desk is open." }</p>
            if let Some(e) = &*action_error {
                <ErrorNote error={e.clone()} />
            }
            { body }
        </section>
    }
}

/// "Every day, for the day before, from 07:00".
pub fn when(s: &ReportSchedule) -> String {
    let cadence = ScheduleKind::parse(&s.kind).map_or("", ScheduleKind::cadence);
    words::sentence(&format!("{cadence}, from {:02}:00", s.send_hour))
}

/// The recipients in words: the named staff by name (an id the directory no longer lists as
/// itself), then "everyone who is an owner" for each role.
pub fn recipients(s: &ReportSchedule, staff: &[StaffMember]) -> Vec<String> {
    let named = s
        .recipient_user_ids
        .iter()
        .map(|id| staff.iter().find(|m| m.id == *id).map_or_else(|| format!("Staff account {id}"), |m| m.name.clone()));
    let roles = s
        .recipient_roles
        .iter()
        .map(|r| Role::parse(r).map_or_else(|| r.clone(), |r| format!("every {}", words::role(r).to_lowercase())));
    named.chain(roles).collect()
}

#[derive(Properties, PartialEq)]
pub struct ScheduleTableProps {
    pub schedules: Vec<ReportSchedule>,
    pub staff: Vec<StaffMember>,
    pub on_edit: Callback<ReportSchedule>,
    pub on_delete: Callback<ReportSchedule>,
}

#[component]
pub fn ScheduleTable(p: &ScheduleTableProps) -> Html {
    if p.schedules.is_empty() {
        return html! {
            <EmptyState title="No report is e-mailed yet"
                hint="Schedule the daily or weekly sales summary for the staff who should read it." />
        };
    }
    html! {
        <table id="report-schedule-table" class="report-table">
            <thead><tr>
                <th scope="col">{ "Report" }</th>
                <th scope="col">{ "When" }</th>
                <th scope="col">{ "To" }</th>
                <th scope="col">{ "Last sent" }</th>
                <th scope="col"><span class="visually-hidden">{ "Actions" }</span></th>
            </tr></thead>
            <tbody>
                { for p.schedules.iter().map(|s| {
                    let title = ScheduleKind::parse(&s.kind).map_or_else(|| s.kind.clone(), |k| k.title().to_string());
                    let (edit, delete) = (s.clone(), s.clone());
                    let (on_edit, on_delete) = (p.on_edit.clone(), p.on_delete.clone());
                    html! {
                        <tr class="report-schedule" data-id={s.id.clone()}>
                            <td>{ title }</td>
                            <td>{ when(s) }</td>
                            <td>{ recipients(s, &p.staff).join(", ") }</td>
                            <td>{ s.last_sent_for.map_or_else(|| "Not yet".to_string(), |d| format!("For {}", d.format("%a %d %b %Y"))) }</td>
                            <td class="actions">
                                <button class="edit-report-schedule" onclick={Callback::from(move |_: MouseEvent| on_edit.emit(edit.clone()))}>{ "Edit" }</button>
                                <button class="delete-report-schedule danger" onclick={Callback::from(move |_: MouseEvent| on_delete.emit(delete.clone()))}>{ "Stop…" }</button>
                            </td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

#[derive(Properties, PartialEq)]
pub struct ScheduleFormProps {
    /// The staff directory to choose recipients from.
    pub staff: Vec<StaffMember>,
    /// The schedule edited, or none for a new one.
    pub schedule: Option<ReportSchedule>,
    pub on_saved: Callback<ReportSchedule>,
    pub on_cancel: Callback<()>,
}

fn toggle(set: &UseStateHandle<BTreeSet<String>>, value: String) -> Callback<Event> {
    let set = set.clone();
    Callback::from(move |e: Event| {
        let mut next = (*set).clone();
        if e.target_unchecked_into::<HtmlInputElement>().checked() {
            next.insert(value.clone());
        } else {
            next.remove(&value);
        }
        set.set(next);
    })
}

/// The report, the hour, and the recipients: staff members by name and whole roles. Checked by
/// the domain's rule before it is sent; the server's refusal shows at its field too.
#[component]
pub fn ScheduleForm(p: &ScheduleFormProps) -> Html {
    let start = p.schedule.clone();
    let kind =
        use_state(|| start.as_ref().map_or_else(|| ScheduleKind::DailySales.as_str().to_string(), |s| s.kind.clone()));
    let hour = use_state(|| start.as_ref().map_or(7, |s| i64::from(s.send_hour)));
    let users = use_state(|| {
        start.as_ref().map(|s| s.recipient_user_ids.iter().cloned().collect::<BTreeSet<String>>()).unwrap_or_default()
    });
    let roles = use_state(|| {
        start.as_ref().map(|s| s.recipient_roles.iter().cloned().collect::<BTreeSet<String>>()).unwrap_or_default()
    });
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| kind.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_hour = {
        let hour = hour.clone();
        Callback::from(move |e: Event| {
            if let Ok(h) = e.target_unchecked_into::<HtmlSelectElement>().value().parse() {
                hour.set(h);
            }
        })
    };
    let on_submit =
        {
            let input = ScheduleInput {
                kind: (*kind).clone(),
                recipient_user_ids: users.iter().cloned().collect(),
                recipient_roles: roles.iter().cloned().collect(),
                send_hour: *hour,
            };
            let id = p.schedule.as_ref().map(|s| s.id.clone());
            let (error, busy, on_saved) = (error.clone(), busy.clone(), p.on_saved.clone());
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                if let Err(f) = input.check() {
                    error.set(Some(at_field(f)));
                    return;
                }
                let (input, id) = (input.clone(), id.clone());
                spawn_save(&busy, &error, &on_saved, async move {
                    services::save_report_schedule(id.as_deref(), &input).await
                });
            })
        };
    // Suspended accounts receive nothing; one already chosen stays visible so it can be removed.
    let choosable: Vec<&StaffMember> =
        p.staff.iter().filter(|m| m.status != StaffStatus::Suspended || users.contains(&m.id)).collect();
    let e = &*error;
    let title = if p.schedule.is_some() { "Change the scheduled e-mail" } else { "New scheduled e-mail" };
    html! {
        <form id="report-schedule-form" class="form" aria-label={title} onsubmit={on_submit}>
            <h3>{ title }</h3>
            <label>{ "Report" }
                <select id="schedule-kind" onchange={on_kind}>
                    { for ScheduleKind::ALL.iter().map(|k| html! {
                        <option value={k.as_str()} selected={*kind == k.as_str()}>{ format!("{} — {}", k.title(), k.cadence()) }</option>
                    }) }
                </select>
                { field_error(e, "kind") }
            </label>
            <label>{ "From" }
                <select id="schedule-hour" onchange={on_hour}>
                    { for (0..24i64).map(|h| html! {
                        <option value={h.to_string()} selected={*hour == h}>{ format!("{h:02}:00") }</option>
                    }) }
                </select>
                { field_error(e, "send_hour") }
            </label>
            <fieldset id="schedule-staff">
                <legend>{ "Send to" }</legend>
                { for choosable.iter().map(|m| html! {
                    <label class="check">
                        <input type="checkbox" class="schedule-recipient" value={m.id.clone()}
                            checked={users.contains(&m.id)} onchange={toggle(&users, m.id.clone())} />
                        { format!("{} ({})", m.name, m.email) }
                    </label>
                }) }
                { field_error(e, "recipient_user_ids") }
            </fieldset>
            <fieldset id="schedule-roles">
                <legend>{ "And everyone who is" }</legend>
                { for STAFF_ROLES.iter().map(|r| html! {
                    <label class="check">
                        <input type="checkbox" class="schedule-role" value={r.as_str()}
                            checked={roles.contains(r.as_str())} onchange={toggle(&roles, r.as_str().to_string())} />
                        { words::role(*r) }
                    </label>
                }) }
                { field_error(e, "recipient_roles") }
            </fieldset>
            { form_error(e, &["kind", "send_hour", "recipient_user_ids", "recipient_roles"]) }
            <div class="actions">
                <button id="save-report-schedule" type="submit" disabled={*busy}>{ if *busy { "Saving…" } else { "Save" } }</button>
                <button type="button" onclick={p.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    fn member(id: &str, name: &str, status: StaffStatus) -> StaffMember {
        StaffMember {
            id: id.into(),
            name: name.into(),
            email: format!("{id}@example.com"),
            role: Role::Admin,
            status,
            mfa_enabled: false,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    fn schedule(kind: &str, users: &[&str], roles: &[&str], last: Option<&str>) -> ReportSchedule {
        ReportSchedule {
            id: format!("s-{kind}"),
            kind: kind.into(),
            recipient_user_ids: users.iter().map(|s| s.to_string()).collect(),
            recipient_roles: roles.iter().map(|s| s.to_string()).collect(),
            send_hour: 7,
            last_sent_for: last.map(|d| d.parse().unwrap()),
            created_by: "u-owner".into(),
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[tokio::test]
    async fn the_screen_opens_from_the_report_tabs_and_loads_online() {
        let html = render_page(Route::ReportSchedules).await;
        assert!(html.contains("id=\"report-schedules\"") && html.contains("Loading the scheduled e-mails"), "{html}");
        assert!(html.contains("href=\"#/reports/scheduled\"") && html.contains("aria-current=\"page\""), "{html}");
    }

    #[tokio::test]
    async fn schedules_list_report_cadence_recipients_by_name_and_last_sent() {
        let staff = vec![member("u1", "Ana Admin", StaffStatus::Active)];
        let schedules = vec![
            schedule("daily_sales", &["u1", "u-gone"], &["owner"], Some("2026-12-03")),
            schedule("weekly_sales", &[], &["manager"], None),
        ];
        let props = ScheduleTableProps { schedules, staff, on_edit: Callback::noop(), on_delete: Callback::noop() };
        let html = yew::LocalServerRenderer::<ScheduleTable>::with_props(props).render().await;
        assert!(html.contains("Daily sales summary") && html.contains("Weekly sales summary"), "{html}");
        assert!(html.contains("Every day, for the day before, from 07:00"), "{html}");
        assert!(html.contains("Every Monday, for the week before, from 07:00"), "{html}");
        assert!(html.contains("Ana Admin, Staff account u-gone, every owner"), "{html}");
        assert!(html.contains("For Thu 03 Dec 2026") && html.contains("Not yet"), "{html}");
        assert_eq!(html.matches("class=\"edit-report-schedule\"").count(), 2, "{html}");
        assert!(!html.contains(">daily_sales<"), "words, not codes: {html}");

        let props = ScheduleTableProps {
            schedules: vec![],
            staff: vec![],
            on_edit: Callback::noop(),
            on_delete: Callback::noop(),
        };
        let html = yew::LocalServerRenderer::<ScheduleTable>::with_props(props).render().await;
        assert!(html.contains("No report is e-mailed yet"), "{html}");
    }

    #[tokio::test]
    async fn the_form_offers_reports_hours_staff_and_roles_with_the_schedule_checked() {
        let staff = vec![
            member("u1", "Ana Admin", StaffStatus::Active),
            member("u2", "Sam Suspended", StaffStatus::Suspended),
            member("u3", "Ivo Invited", StaffStatus::Invited),
        ];
        let props = ScheduleFormProps {
            staff: staff.clone(),
            schedule: Some(schedule("weekly_sales", &["u1"], &["owner"], None)),
            on_saved: Callback::noop(),
            on_cancel: Callback::noop(),
        };
        let html = yew::LocalServerRenderer::<ScheduleForm>::with_props(props).render().await;
        assert!(html.contains("Change the scheduled e-mail"), "{html}");
        assert!(html.contains("Ana Admin (u1@example.com)") && html.contains("Ivo Invited"), "{html}");
        assert!(!html.contains("Sam Suspended"), "a suspended account is not offered: {html}");
        assert_eq!(html.matches("class=\"schedule-role\"").count(), 4, "the four staff roles: {html}");
        assert_eq!(html.matches("<option").count(), 2 + 24, "two reports, 24 hours: {html}");
        assert_eq!(html.matches("checked").count(), 2, "Ana and the owners: {html}");
        assert!(html.contains("value=\"weekly_sales\" selected"), "{html}");
        let props =
            ScheduleFormProps { staff, schedule: None, on_saved: Callback::noop(), on_cancel: Callback::noop() };
        let html = yew::LocalServerRenderer::<ScheduleForm>::with_props(props).render().await;
        assert!(html.contains("New scheduled e-mail") && !html.contains("checked"), "{html}");
    }

    /// The table's "Actions" header is for screen readers: the stylesheet must hide it from
    /// sight (the standard clip rule), or the header shows above the buttons' column.
    #[test]
    fn the_stylesheet_hides_visually_hidden_text_from_sight_only() {
        let css = include_str!("../../style.css");
        let at = css.find("\n.visually-hidden {").expect("a .visually-hidden rule");
        let rule = &css[at..at + css[at..].find("\n}").unwrap_or(css.len() - at)];
        for decl in [
            "position: absolute",
            "width: 1px",
            "height: 1px",
            "overflow: hidden",
            "clip: rect(0, 0, 0, 0)",
            "white-space: nowrap",
        ] {
            assert!(rule.contains(decl), "{decl} in {rule}");
        }
        assert!(!rule.contains("display: none"), "screen readers must still read it: {rule}");
    }
}
