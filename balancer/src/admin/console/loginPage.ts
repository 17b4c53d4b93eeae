import { html, type SafeHtml } from "./html.js";
import { consoleBase, plainPage } from "./layout.js";

/** The login form; `nonce` ties the form to the browser that asked for it (double-submit cookie). */
export function renderLoginPage(nonce: string, problem?: string): SafeHtml {
  return plainPage(
    "Log in",
    html`<section class="login">
<h1>Log in</h1>
<p>With the balancer's admin token (<code>ADMIN_TOKEN</code>; the sandbox prints it).</p>
${problem === undefined ? "" : html`<p class="problem" role="alert">${problem}</p>`}
<form method="post" action="${consoleBase}/login">
<input type="hidden" name="nonce" value="${nonce}">
<label>Your name <input name="operator" required maxlength="64" autocomplete="username" placeholder="who is acting, for the action log"></label>
<label>Admin token <input name="token" type="password" required autocomplete="current-password"></label>
<button type="submit">Log in</button>
</form>
</section>`,
  );
}

/** Any refusal a browser sees: the reason, and the way back in. */
export function renderRefusal(title: string, reason: string): SafeHtml {
  return plainPage(title, html`<section class="login"><h1>${title}</h1><p class="problem">${reason}</p><p><a href="${consoleBase}/login">Log in</a></p></section>`);
}
