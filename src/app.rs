//! The HTML shell, the router and the signed-in layout.

use crate::api::auth::current_user;
use crate::components::nav::SideNav;
use crate::components::toast::ToastRegion;
use crate::components::user::UserResource;
use crate::error::AppError;
use crate::pages::account::AccountPage;
use crate::pages::contacts::upload::UploadTab;
use crate::pages::contacts::{ContactsPage, ContactsTab, GroupsTab};
use crate::pages::not_found::NotFound;
use crate::pages::settings::SettingsPage;
use crate::pages::setup::SetupPage;
use crate::pages::sign_in::SignInPage;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, lazy_route, path};

/// The document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: routes for set-up, sign-in and the signed-in pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Contacts".to_string() } else { format!("{title} · Contacts") }
        }/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()}/>
                <Route path=path!("/login") view={Lazy::<SignInRoute>::new()}/>
                <ParentRoute path=path!("") view=SignedInLayout>
                    <Route path=path!("") view=|| view! { <Redirect path="/contacts"/> }/>
                    <ParentRoute path=path!("/contacts") view=ContactsPage>
                        <Route path=path!("") view=ContactsTab/>
                        <Route path=path!("upload") view={Lazy::<UploadRoute>::new()}/>
                        <Route path=path!("groups") view={Lazy::<GroupsRoute>::new()}/>
                    </ParentRoute>
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()}/>
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The frame of every signed-in page: left navigation and the page beside it.
///
/// The user is loaded with a blocking resource so the server sends the page with the
/// navigation already filled in, and pages read it through [`UserResource`] context.
#[component]
fn SignedInLayout() -> impl IntoView {
    let user: UserResource = Resource::new_blocking(|| (), |_| current_user());
    provide_context(user);
    view! {
        <div class="layout">
            <Suspense fallback=|| view! { <nav class="sidenav" aria-label="Main"></nav> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(user) => view! { <SideNav user/> }.into_any(),
                        Err(error) => view! { <SessionEnded error/> }.into_any(),
                    }
                })}
            </Suspense>
            <main class="page">
                <ToastRegion>
                    <Outlet/>
                </ToastRegion>
            </main>
        </div>
    }
}

/// Shown instead of the navigation when the session has gone.
#[component]
fn SessionEnded(error: AppError) -> impl IntoView {
    view! {
        <nav class="sidenav" aria-label="Main">
            <p class="sidenav-error" role="alert">{error.to_string()}</p>
            <a href="/login" rel="external">"Sign in"</a>
        </nav>
    }
}

// The screens a user does not need first are loaded when first opened: each is a route
// whose view the WASM build splits into a file of its own (`cargo leptos --split`).

/// The Upload contacts tab, loaded when first opened.
struct UploadRoute;

#[lazy_route]
impl LazyRoute for UploadRoute {
    fn data() -> Self {
        UploadRoute
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <UploadTab/> }.into_any()
    }
}

/// The Contact Groups tab, loaded when first opened.
struct GroupsRoute;

#[lazy_route]
impl LazyRoute for GroupsRoute {
    fn data() -> Self {
        GroupsRoute
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <GroupsTab/> }.into_any()
    }
}

/// Settings, loaded when first opened.
struct SettingsRoute;

#[lazy_route]
impl LazyRoute for SettingsRoute {
    fn data() -> Self {
        SettingsRoute
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <SettingsPage/> }.into_any()
    }
}

/// Account, loaded when first opened.
struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        AccountRoute
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <AccountPage/> }.into_any()
    }
}

/// Create workspace (once per install), loaded when opened.
struct SetupRoute;

#[lazy_route]
impl LazyRoute for SetupRoute {
    fn data() -> Self {
        SetupRoute
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <SetupPage/> }.into_any()
    }
}

/// Sign in, loaded when opened (a signed-in user does not need it).
struct SignInRoute;

#[lazy_route]
impl LazyRoute for SignInRoute {
    fn data() -> Self {
        SignInRoute
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <SignInPage/> }.into_any()
    }
}
