//! The pricing catalogue's commands: read a tour's pricing, the promo codes, taxes and
//! policies; quote a booking; save or delete a season, code, tax rate, policy, FAQ, inclusion,
//! group or early-bird discount; choose a tour's shared cancellation policy.
//! Each save takes the mutation's own arguments (a blank `id` is a new row: the desk mints its
//! UUID), runs it on the store and announces the kind it touched.

use chrono::Utc;
use tauri::State;
use tourdesk_domain::catalogue::{CancellationPolicyRow, PromotionalCode, QuoteInput, TaxRate, TourPricingView};
use tourdesk_domain::mutation::{
    DeleteEarlyBirdDiscountV1, DeleteGroupDiscountV1, DeleteSeasonV1, DeleteTourFaqV1, DeleteTourInclusionV1, Mutation,
    ReorderTourFaqsV1, ReorderTourInclusionsV1, ReorderTourRowsArgs, SetPromoCodeStatusV1, SetTourCancellationPolicyV1,
    UpsertCancellationPolicyV1, UpsertEarlyBirdDiscountV1, UpsertGroupDiscountV1, UpsertPromoCodeV1, UpsertSeasonV1,
    UpsertTaxRateV1, UpsertTourFaqV1, UpsertTourInclusionV1,
};
use tourdesk_domain::pricing::{PromoStatus, Quote};
use tourdesk_domain::protocol::EntityKind;

use super::{mint, save};
use crate::Desk;
use crate::error::DeskResult;

#[tauri::command]
pub async fn tour_pricing(desk: State<'_, Desk>, tour_id: String) -> DeskResult<TourPricingView> {
    Ok(desk.store.tour_pricing(&tour_id)?)
}

#[tauri::command]
pub async fn list_promo_codes(desk: State<'_, Desk>) -> DeskResult<Vec<PromotionalCode>> {
    Ok(desk.store.promo_codes()?)
}

#[tauri::command]
pub async fn list_tax_rates(desk: State<'_, Desk>) -> DeskResult<Vec<TaxRate>> {
    Ok(desk.store.tax_rates()?)
}

#[tauri::command]
pub async fn list_cancellation_policies(desk: State<'_, Desk>) -> DeskResult<Vec<CancellationPolicyRow>> {
    Ok(desk.store.cancellation_policies()?)
}

/// The price the booking form shows: the desk's catalogue, seasons, taxes and codes.
#[tauri::command]
pub async fn quote_booking(desk: State<'_, Desk>, input: QuoteInput) -> DeskResult<Quote> {
    Ok(desk.store.quote(&input, Utc::now())?)
}

#[tauri::command]
pub async fn save_season(desk: State<'_, Desk>, mut input: UpsertSeasonV1) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertSeasonV1(input), EntityKind::Season)?;
    Ok(id)
}

#[tauri::command]
pub async fn delete_season(desk: State<'_, Desk>, id: String) -> DeskResult<()> {
    save(&desk, &Mutation::DeleteSeasonV1(DeleteSeasonV1 { id }), EntityKind::Season)
}

#[tauri::command]
pub async fn save_promo_code(desk: State<'_, Desk>, mut input: UpsertPromoCodeV1) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertPromoCodeV1(input), EntityKind::PromoCode)?;
    Ok(id)
}

#[tauri::command]
pub async fn set_promo_code_status(desk: State<'_, Desk>, id: String, status: PromoStatus) -> DeskResult<()> {
    save(&desk, &Mutation::SetPromoCodeStatusV1(SetPromoCodeStatusV1 { id, status }), EntityKind::PromoCode)
}

#[tauri::command]
pub async fn save_tax_rate(desk: State<'_, Desk>, mut input: UpsertTaxRateV1) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertTaxRateV1(input), EntityKind::TaxRate)?;
    Ok(id)
}

#[tauri::command]
pub async fn save_cancellation_policy(
    desk: State<'_, Desk>,
    mut input: UpsertCancellationPolicyV1,
) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertCancellationPolicyV1(input), EntityKind::CancellationPolicy)?;
    Ok(id)
}

#[tauri::command]
pub async fn save_tour_faq(desk: State<'_, Desk>, mut input: UpsertTourFaqV1) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertTourFaqV1(input), EntityKind::TourFaq)?;
    Ok(id)
}

#[tauri::command]
pub async fn delete_tour_faq(desk: State<'_, Desk>, id: String) -> DeskResult<()> {
    save(&desk, &Mutation::DeleteTourFaqV1(DeleteTourFaqV1 { id }), EntityKind::TourFaq)
}

#[tauri::command]
pub async fn save_tour_inclusion(desk: State<'_, Desk>, mut input: UpsertTourInclusionV1) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertTourInclusionV1(input), EntityKind::TourInclusion)?;
    Ok(id)
}

#[tauri::command]
pub async fn delete_tour_inclusion(desk: State<'_, Desk>, id: String) -> DeskResult<()> {
    save(&desk, &Mutation::DeleteTourInclusionV1(DeleteTourInclusionV1 { id }), EntityKind::TourInclusion)
}

/// The tour's FAQs in the order given (the editor's "Move up" / "Move down").
#[tauri::command]
pub async fn reorder_tour_faqs(desk: State<'_, Desk>, tour_id: String, ids: Vec<String>) -> DeskResult<()> {
    let m = Mutation::ReorderTourFaqsV1(ReorderTourFaqsV1(ReorderTourRowsArgs { tour_id, ids }));
    save(&desk, &m, EntityKind::TourFaq)
}

/// The tour's inclusion / exclusion lines in the order given.
#[tauri::command]
pub async fn reorder_tour_inclusions(desk: State<'_, Desk>, tour_id: String, ids: Vec<String>) -> DeskResult<()> {
    let m = Mutation::ReorderTourInclusionsV1(ReorderTourInclusionsV1(ReorderTourRowsArgs { tour_id, ids }));
    save(&desk, &m, EntityKind::TourInclusion)
}

#[tauri::command]
pub async fn save_group_discount(desk: State<'_, Desk>, mut input: UpsertGroupDiscountV1) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertGroupDiscountV1(input), EntityKind::GroupDiscount)?;
    Ok(id)
}

#[tauri::command]
pub async fn delete_group_discount(desk: State<'_, Desk>, id: String) -> DeskResult<()> {
    save(&desk, &Mutation::DeleteGroupDiscountV1(DeleteGroupDiscountV1 { id }), EntityKind::GroupDiscount)
}

#[tauri::command]
pub async fn save_early_bird_discount(
    desk: State<'_, Desk>,
    mut input: UpsertEarlyBirdDiscountV1,
) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertEarlyBirdDiscountV1(input), EntityKind::EarlyBirdDiscount)?;
    Ok(id)
}

#[tauri::command]
pub async fn delete_early_bird_discount(desk: State<'_, Desk>, id: String) -> DeskResult<()> {
    save(&desk, &Mutation::DeleteEarlyBirdDiscountV1(DeleteEarlyBirdDiscountV1 { id }), EntityKind::EarlyBirdDiscount)
}

/// The organization-wide policy the tour's bookings are cancelled under; `None` goes back to
/// the tour's own policy, else the organization's default. Announced as a tour change: the
/// choice is stored on the tour.
#[tauri::command]
pub async fn set_tour_cancellation_policy(
    desk: State<'_, Desk>,
    tour_id: String,
    cancellation_policy_id: Option<String>,
) -> DeskResult<()> {
    let m = Mutation::SetTourCancellationPolicyV1(SetTourCancellationPolicyV1 { tour_id, cancellation_policy_id });
    save(&desk, &m, EntityKind::Tour)
}
