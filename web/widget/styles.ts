/**
 * The widget's CSS, inside its shadow root: the site's rules match nothing in it, and it reaches nothing
 * else. Only the host element can be styled from outside (and passes inherited values such as font-size
 * down), so `:host` resets everything with !important, which wins over the page's own !important rules.
 */
export const STYLES = `
:host{all:initial!important;display:block!important;position:fixed!important;right:20px!important;bottom:20px!important;z-index:2147483000!important;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif!important;color:#1d2330!important}
*{box-sizing:border-box}
button{font:inherit;cursor:pointer}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--accent,#2456d3);color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);display:grid;place-items:center}
.launcher svg{width:26px;height:26px}
.launcher:focus-visible,.panel button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #f5b400;outline-offset:2px}
.panel{position:absolute;right:0;bottom:72px;width:370px;max-width:calc(100vw - 40px);height:540px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden}
.panel[hidden]{display:none}
header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--accent,#2456d3);color:#fff}
header h2{font-size:16px;margin:0;flex:1;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
header button{background:transparent;border:0;color:#fff;border-radius:6px;padding:4px 8px;font-size:14px}
header button:hover{background:rgba(255,255,255,.18)}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#f6f7f9}
.msg{max-width:88%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.user{align-self:flex-end;background:var(--accent,#2456d3);color:#fff;border-bottom-right-radius:4px}
.bot{align-self:flex-start;background:#fff;border:1px solid #dde1e8;border-bottom-left-radius:4px}
.bot.pending::after{content:"▍";animation:blink 1s steps(2) infinite}
@keyframes blink{50%{opacity:0}}
.sources{margin:8px 0 0;padding:8px 0 0;border-top:1px solid #e6e9ef;font-size:13px;list-style:none}
.sources li{margin:2px 0}
.sources a{color:#1c4bc0}
.notice{align-self:stretch;background:#fff4e0;border:1px solid #f0c36d;color:#5c3b00;border-radius:10px;padding:9px 12px;font-size:14px}
.notice.refused{background:#fde8e8;border-color:#e99;color:#7a1010}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #e6e9ef;background:#fff}
textarea{flex:1;resize:none;border:1px solid #c9ced8;border-radius:10px;padding:8px 10px;font:inherit;color:inherit;min-height:40px;max-height:120px}
form button{border:0;border-radius:10px;background:var(--accent,#2456d3);color:#fff;padding:0 14px;font-weight:600}
form button:disabled{opacity:.5;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){:host{right:12px!important;bottom:12px!important}.panel{position:fixed;inset:0;width:100vw;max-width:none;height:100%;max-height:none;border-radius:0}}
@media (prefers-reduced-motion:reduce){.bot.pending::after{animation:none}}
`;
