//! What the site offers: products, services, and the life of an application.

use crate::macros::choice_enum;

choice_enum! {
    /// A product applied for on the web application site.
    pub enum Product {
        /// 普通預金口座開設: opening an ordinary savings account.
        SavingsAccount => "savings-account",
        /// インターネットバンキング: internet banking for an existing account.
        InternetBanking => "internet-banking",
        /// Visaデビットカード: a debit card for an existing account.
        DebitCard => "debit-card",
    }
}

choice_enum! {
    /// A public service of the site, each with its own listener paths and audit stream.
    pub enum Service {
        /// Product applications (SPEC §4.1).
        WebApplication => "web-application",
        /// Loan-centre visit reservations (SPEC §4.2).
        VisitReservation => "visit-reservation",
    }
}

choice_enum! {
    /// Where an application stands in the back office (SPEC §5).
    ///
    /// Flow: submitted → in review ⇄ more information needed → approved → handed off →
    /// completed. Side exits: rejected (while being reviewed), withdrawn (any time before it
    /// is handed off to core banking), expired (while waiting for the applicant).
    pub enum ApplicationStatus {
        /// 受付済: submitted by the applicant, not yet picked up.
        Submitted => "submitted",
        /// 審査中: a reviewer is working on it.
        InReview => "in-review",
        /// 追加情報依頼中: waiting for the applicant to send more information.
        MoreInformationNeeded => "more-information-needed",
        /// 承認済: approved, waiting for the next hand-off batch.
        Approved => "approved",
        /// 勘定系連携済: exported to core banking, waiting for its answer.
        HandedOff => "handed-off",
        /// 完了: core banking opened the account; secrets are deleted.
        Completed => "completed",
        /// 謝絶: refused by the bank.
        Rejected => "rejected",
        /// 取下げ: withdrawn by the applicant.
        Withdrawn => "withdrawn",
        /// 期限切れ: the applicant did not answer in time.
        Expired => "expired",
    }
}

impl ApplicationStatus {
    /// True once nothing can happen to the application any more.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Rejected | Self::Withdrawn | Self::Expired
        )
    }

    /// Whether core banking's answer to a hand-off (`madoguchi handoff import`) moves an
    /// application from this status to `next`: handed off → completed when it opened the
    /// account, → rejected when it refused. Not a move staff can make.
    pub const fn core_answer_moves_to(self, next: ApplicationStatus) -> bool {
        matches!(
            (self, next),
            (Self::HandedOff, Self::Completed) | (Self::HandedOff, Self::Rejected)
        )
    }

    /// Whether staff (or the applicant, for withdrawal) may move an application from this
    /// status to `next`. Staying in the same status is not a move.
    ///
    /// - rejected: only from submitted, in review or more information needed: once approved
    ///   the bank has decided (core banking's refusal is [`Self::core_answer_moves_to`]);
    /// - withdrawn: from any status before handed off: after that core banking holds it;
    /// - expired: only while the bank waits for the applicant (submitted, more information
    ///   needed).
    pub const fn can_move_to(self, next: ApplicationStatus) -> bool {
        use ApplicationStatus::*;
        matches!(
            (self, next),
            (Submitted, InReview)
                | (InReview, MoreInformationNeeded)
                | (MoreInformationNeeded, InReview)
                | (InReview, Approved)
                | (Approved, HandedOff)
                | (HandedOff, Completed)
                | (Submitted | InReview | MoreInformationNeeded, Rejected)
                | (
                    Submitted | InReview | MoreInformationNeeded | Approved,
                    Withdrawn
                )
                | (Submitted | MoreInformationNeeded, Expired)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::ApplicationStatus::*;
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn stable_names_round_trip() {
        assert_eq!(
            Product::parse("savings-account"),
            Ok(Product::SavingsAccount)
        );
        assert_eq!(
            Product::parse("internet-banking"),
            Ok(Product::InternetBanking)
        );
        assert_eq!(Product::DebitCard.as_str(), "debit-card");
        assert_eq!(
            Service::parse("visit-reservation"),
            Ok(Service::VisitReservation)
        );
        assert_eq!(Service::WebApplication.as_str(), "web-application");
        assert_eq!(
            ApplicationStatus::parse("more-information-needed"),
            Ok(MoreInformationNeeded)
        );
        assert_eq!(
            ApplicationStatus::parse("handed_off"),
            Err(ErrorCode::InvalidChoice)
        );
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(s.as_str()), Ok(*s));
        }
    }

    #[test]
    fn the_main_flow_is_allowed() {
        let flow = [
            Submitted,
            InReview,
            MoreInformationNeeded,
            InReview,
            Approved,
            HandedOff,
            Completed,
        ];
        for pair in flow.windows(2) {
            assert!(pair[0].can_move_to(pair[1]), "{} -> {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn exactly_these_moves_are_allowed() {
        let allowed = [
            (Submitted, InReview),
            (Submitted, Rejected),
            (Submitted, Withdrawn),
            (Submitted, Expired),
            (InReview, MoreInformationNeeded),
            (InReview, Approved),
            (InReview, Rejected),
            (InReview, Withdrawn),
            (MoreInformationNeeded, InReview),
            (MoreInformationNeeded, Rejected),
            (MoreInformationNeeded, Withdrawn),
            (MoreInformationNeeded, Expired),
            (Approved, HandedOff),
            (Approved, Withdrawn),
            (HandedOff, Completed),
        ];
        for from in ApplicationStatus::ALL {
            for to in ApplicationStatus::ALL {
                let expected = allowed.contains(&(*from, *to));
                assert_eq!(from.can_move_to(*to), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn core_banking_answers_only_handed_off_applications() {
        for from in ApplicationStatus::ALL {
            for to in ApplicationStatus::ALL {
                let expected = *from == HandedOff && matches!(to, Completed | Rejected);
                assert_eq!(from.core_answer_moves_to(*to), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn terminal_statuses_go_nowhere() {
        for from in ApplicationStatus::ALL.iter().filter(|s| s.is_terminal()) {
            assert!(
                ApplicationStatus::ALL
                    .iter()
                    .all(|to| !from.can_move_to(*to)),
                "{from}"
            );
        }
        assert!(!Approved.is_terminal() && !HandedOff.is_terminal());
        assert!(!HandedOff.can_move_to(Withdrawn));
        assert!(!Approved.can_move_to(Rejected));
        assert!(!InReview.can_move_to(Expired));
    }
}
