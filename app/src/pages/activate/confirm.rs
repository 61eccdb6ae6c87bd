//! The confirmation (R6): the code large, the TV it belongs to, the anti-phishing line, then
//! Continue (the primary action, filled with the brand's colour) beside Cancel (outlined), each
//! as large as the other so neither is hard to hit.

use leptos::{prelude::*, server_fn::ServerFn};

use super::api::{CancelCode, ConfirmCode};
use crate::{i18n::use_texts, port::CodeDetails};

/// "Is this the code on your TV?"
#[component]
pub fn Confirmation(details: CodeDetails, csrf: String) -> impl IntoView {
    let texts = use_texts();
    let device = details
        .device
        .clone()
        .unwrap_or_else(|| texts.confirm_unknown_device.to_owned());
    let code = details.code;
    view! {
        <h1>{texts.confirm_title}</h1>
        <dl class="confirm">
            <dt>{texts.confirm_code}</dt>
            <dd class="code-shown">{code.clone()}</dd>
            <dt>{texts.confirm_device}</dt>
            <dd>{device}</dd>
        </dl>
        {match details.same_network {
            Some(true) => Some(view! { <p>{texts.same_network}</p> }.into_any()),
            Some(false) => Some(view! { <p class="warning">{texts.other_network}</p> }.into_any()),
            None => None,
        }}
        <p class="warning">{texts.anti_phishing}</p>
        <div class="actions pair">
            <form method="post" action=ConfirmCode::url()>
                <input type="hidden" name="code" value=code.clone()/>
                <input type="hidden" name="csrf" value=csrf.clone()/>
                <button type="submit" class="button primary">{texts.continue_label}</button>
            </form>
            <form method="post" action=CancelCode::url()>
                <input type="hidden" name="code" value=code/>
                <input type="hidden" name="csrf" value=csrf/>
                <button type="submit" class="button">{texts.cancel_label}</button>
            </form>
        </div>
    }
}
