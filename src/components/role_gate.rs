//! Shows its children only to users whose role allows it.

use crate::components::user::UserResource;
use crate::model::Role;
use leptos::prelude::*;

/// Renders `children` when the signed-in user's role passes `allow`, else `fallback`.
///
/// The server refuses the same actions on its own; this only keeps controls a user
/// cannot use out of their way.
#[component]
pub fn RoleGate(
    /// Which roles see the children.
    allow: fn(Role) -> bool,
    /// What the others see.
    #[prop(optional, into)]
    fallback: ViewFn,
    /// The guarded content.
    children: ChildrenFn,
) -> impl IntoView {
    let user = expect_context::<UserResource>();
    let children = StoredValue::new(children);
    view! {
        <Suspense>
            {move || {
                let fallback = fallback.clone();
                Suspend::new(async move {
                    let allowed = user.await.map(|u| allow(u.role)).unwrap_or(false);
                    if allowed {
                        children.read_value()().into_any()
                    } else {
                        fallback.run().into_any()
                    }
                })
            }}
        </Suspense>
    }
}
