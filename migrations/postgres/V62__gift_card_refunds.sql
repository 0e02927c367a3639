-- Tourdesk server schema, part 62: money given back to a gift card (issue 15).
--
-- A website checkout part-paid by a gift card whose seat hold runs out before the rest is paid
-- is released by the hold job (`expire_hold.v1`), and each redemption goes back to its card: a
-- movement of kind `refund` naming the booking (with the id of the booking's `refund` ledger
-- entry), so the card's history shows where its balance went and came back from. V32 allowed
-- only issues and redemptions; like a redemption, a refund names its booking.

ALTER TABLE gift_card_movements DROP CONSTRAINT gift_card_movements_kind_check;
ALTER TABLE gift_card_movements ADD CONSTRAINT gift_card_movements_kind_check
    CHECK (kind IN ('issue', 'redemption', 'refund'));
ALTER TABLE gift_card_movements DROP CONSTRAINT gift_card_movements_check;
ALTER TABLE gift_card_movements ADD CONSTRAINT gift_card_movements_check
    CHECK ((kind IN ('redemption', 'refund')) = (booking_id IS NOT NULL));
