//! Calendar feeds (issue 14 item 6) in the desk: the office makes, copies and rotates the iCal
//! link of each guide (their assignments) and each tour (its departures); a guide makes their
//! own. The server keeps only a digest of a feed's token, so a link is shown once, when made:
//! making a new one stops the earlier link at once (rotation).

use serde::{Deserialize, Serialize};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::error::UiError;
use crate::services::{self, call};
use crate::state::{Action, use_app};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FeedArgs<'a> {
    kind: &'a str,
    subject_id: &'a str,
}

/// What the server answers: the feed's address (with its token), shown once.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FeedLink {
    pub kind: String,
    pub subject_id: String,
    pub url: String,
}

/// Makes the feed of a `guide` or a `tour`, or a new link for it (the earlier one stops working).
pub async fn calendar_feed_link(kind: &str, subject_id: &str) -> Result<FeedLink, UiError> {
    call("calendar_feed_link", &FeedArgs { kind, subject_id }).await
}

/// One subject a feed can be made for.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedSubject {
    /// `guide` or `tour`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
}

#[derive(Properties, PartialEq)]
pub struct CalendarFeedsProps {
    pub subjects: Vec<FeedSubject>,
}

/// A table of subjects, each with "New link" and, once made, its link to copy.
#[component]
pub fn CalendarFeeds(props: &CalendarFeedsProps) -> Html {
    let app = use_app();
    // The links made on this screen, by `kind:id` (the server cannot show them again).
    let links = use_state(Vec::<FeedLink>::new);
    let error = use_state(|| None::<(String, String)>);
    let make = |s: &FeedSubject| {
        let (links, error, app) = (links.clone(), error.clone(), app.clone());
        let (kind, id, had) = (s.kind, s.id.clone(), links.iter().any(|l| l.kind == s.kind && l.subject_id == s.id));
        Callback::from(move |_: MouseEvent| {
            let (links, error, app, id) = (links.clone(), error.clone(), app.clone(), id.clone());
            spawn_local(async move {
                match calendar_feed_link(kind, &id).await {
                    Ok(mut link) => {
                        // Kept under the subject asked for ("" is the signed-in guide's own).
                        link.subject_id = id.clone();
                        let mut all: Vec<FeedLink> =
                            links.iter().filter(|l| !(l.kind == kind && l.subject_id == id)).cloned().collect();
                        all.push(link);
                        links.set(all);
                        error.set(None);
                        app.dispatch(Action::Toast(
                            if had { "New link made: the earlier one no longer works" } else { "Calendar link made" }
                                .into(),
                        ));
                    }
                    Err(e) => error.set(Some((format!("{kind}:{id}"), e.message))),
                }
            });
        })
    };
    let copy = |url: String| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            let (app, url) = (app.clone(), url.clone());
            spawn_local(async move {
                let said = match services::copy_to_clipboard(&url).await {
                    Ok(()) => "Link copied".to_string(),
                    Err(e) => e.message,
                };
                app.dispatch(Action::Toast(said));
            });
        })
    };
    html! {
        <section class="panel calendar-feeds" aria-label="Calendar feeds">
            <h2>{ "Calendar feeds" }</h2>
            <p class="muted">{ "A link any calendar app can subscribe to (iCal). It is shown once: keep it, or make a new one — the earlier link then stops working." }</p>
            <table class="feeds">
                <tbody>
                { for props.subjects.iter().map(|s| {
                    let key = format!("{}:{}", s.kind, s.id);
                    let link = links.iter().find(|l| l.kind == s.kind && l.subject_id == s.id).cloned();
                    let err = error.as_ref().filter(|(k, _)| *k == key).map(|(_, m)| m.clone());
                    html! {
                        <tr class="feed-row" data-kind={s.kind} data-id={s.id.clone()}>
                            <td>{ &s.name }</td>
                            <td class="muted">{ if s.kind == "guide" { "Guide's assignments" } else { "Tour's departures" } }</td>
                            <td class="feed-link">
                                if let Some(l) = &link {
                                    <input class="feed-url" readonly=true aria-label="Calendar link" value={l.url.clone()} />
                                    { " " }<button type="button" class="copy-feed" onclick={copy(l.url.clone())}>{ "Copy" }</button>
                                }
                                if let Some(m) = err { <span class="field-error" role="alert">{ m }</span> }
                            </td>
                            <td>
                                <button type="button" class="make-feed" onclick={make(s)}>
                                    { if link.is_some() { "New link (stops this one)" } else { "Make link" } }
                                </button>
                            </td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_subject_offers_a_link() {
        let subjects = vec![
            FeedSubject { kind: "guide", id: "g1".into(), name: "Gina Guide".into() },
            FeedSubject { kind: "tour", id: "t1".into(), name: "Alfama walk".into() },
        ];
        let html =
            yew::LocalServerRenderer::<CalendarFeeds>::with_props(CalendarFeedsProps { subjects }).render().await;
        assert!(html.contains("Gina Guide") && html.contains("Guide's assignments"), "{html}");
        assert!(html.contains("Alfama walk") && html.contains("Tour's departures"), "{html}");
        assert_eq!(html.matches("Make link").count(), 2, "{html}");
    }
}
