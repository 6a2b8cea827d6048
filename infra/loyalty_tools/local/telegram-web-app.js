// Telegram's WebApp object as the local stack's Telegram emulator gives it to the Mini App (the page loads this in
// place of https://telegram.org/js/telegram-web-app.js when the stack's TelegramWebAppJs points here). It does what
// the page uses, as Telegram does it, and tells the emulator every call (GET /emulator/webapp lists them):
// - initData from the launch URL's #tgWebAppData, themeParams from #tgWebAppThemeParams;
// - showScanQrPopup: the camera is a prompt for the code's text; the callback gets it, and closes the popup by
//   returning true, as Telegram's does;
// - shareMessage: the emulator checks the prepared message was saved by the bot for this user;
// - addToHomeScreen / checkHomeScreenStatus: the emulator remembers who added the app;
// - openTelegramLink with a private chat's invite link: a join request, which the bot's webhook answers.
(function () {
  "use strict";
  const script = document.currentScript;
  const emulator = new URL(script.src).origin;
  const launch = new URLSearchParams(location.hash.slice(1));
  const initData = launch.get("tgWebAppData") || "";
  const user = JSON.parse(new URLSearchParams(initData).get("user") || "{}");
  let themeParams = {};
  try { themeParams = JSON.parse(launch.get("tgWebAppThemeParams") || "{}"); } catch (e) { themeParams = {}; }
  const handlers = {};

  async function tell(method, params) {
    const response = await fetch(`${emulator}/emulator/webapp`, {method: "POST", headers: {"Content-Type": "text/plain"},
      body: JSON.stringify({method, user: user.id, ...(params || {})})});
    return response.json();
  }
  function emit(event, payload) { (handlers[event] || []).forEach((handler) => handler(payload)); }

  const WebApp = {
    initData, initDataUnsafe: {user}, version: "8.0", platform: "emulator", themeParams, colorScheme: "light",
    viewportHeight: window.innerHeight, viewportStableHeight: window.innerHeight, isExpanded: true,
    ready() { tell("ready"); },
    expand() { tell("expand"); },
    onEvent(event, handler) { (handlers[event] = handlers[event] || []).push(handler); },
    offEvent(event, handler) { handlers[event] = (handlers[event] || []).filter((h) => h !== handler); },
    isVersionAtLeast(version) { return parseFloat(version) <= 8.0; },
    openTelegramLink(url) {  // an invite link with join requests asks to join, as Telegram does when it opens one
      tell("openTelegramLink", {url});
      if (/^https:\/\/t\.me\/\+/.test(url)) {
        fetch(`${emulator}/emulator/join`, {method: "POST", headers: {"Content-Type": "text/plain"},
          body: JSON.stringify({user: {id: user.id, first_name: user.first_name || "Shopper"}, link: url})});
      }
    },
    HapticFeedback: {notificationOccurred(type) { tell("haptic", {type}); }, impactOccurred() {}},
    showScanQrPopup(params, callback) {
      tell("showScanQrPopup", {text: params && params.text});
      setTimeout(() => {  // the camera: a person types or pastes what the code says; Cancel closes it
        const text = window.prompt((params && params.text) || "QR");
        if (text === null) { emit("scanQrPopupClosed"); return; }
        tell("qrTextReceived", {data: text});
        const close = callback ? callback(text) : false;
        emit("qrTextReceived", {data: text});
        if (close) emit("scanQrPopupClosed");
      }, 0);
    },
    closeScanQrPopup() { tell("closeScanQrPopup"); },
    shareMessage(id, callback) {
      tell("shareMessage", {id}).then((answer) => {
        emit(answer.sent ? "shareMessageSent" : "shareMessageFailed", {error: answer.sent ? undefined : "UNKNOWN"});
        if (callback) callback(Boolean(answer.sent));
      });
    },
    addToHomeScreen() { tell("addToHomeScreen").then(() => emit("homeScreenAdded")); },
    checkHomeScreenStatus(callback) {
      tell("checkHomeScreenStatus").then((answer) => callback && callback(answer.status));
    },
  };
  window.Telegram = {WebApp};
})();
