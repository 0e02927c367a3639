//! Components shared by the pages: presentational ones (props in, HTML out; rendered on the host
//! in tests) and the few that keep form state (the booking form, the search palette).

pub mod allotments;
pub mod audit;
pub mod booking_form;
pub mod bookings;
pub mod calendar;
pub mod calendar_feeds;
pub mod cancel_booking;
pub mod cancel_departure;
pub mod customer_message;
pub mod dialog;
pub mod field_notes;
pub mod gift_cards;
pub mod history;
pub mod inbox;
pub mod keyboard;
pub mod list_export;
pub mod modify_booking;
pub mod move_booking;
pub mod payment;
pub mod refund_given;
pub mod search;
pub mod settings;
pub mod sidebar;
pub mod sign_out;
pub mod states;
pub mod status_bar;
pub mod timeline;
pub mod toast;
pub mod tour_editor;
pub mod tours;
pub mod virtual_rows;
pub mod waitlist;
