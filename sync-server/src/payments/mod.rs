//! Payments: the only code that talks to the payment processor (Stripe). Callers see Tourdesk's
//! types ([`tourdesk_domain::money::Money`], booking and organization ids) and three kinds of
//! failure (retry later, refused, misconfigured); Stripe's crates stay behind this module.

pub mod gateway;
