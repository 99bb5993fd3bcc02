// The page modules: each registers its pages (ui.js ACCOUNT_PAGES / TOP_PAGES) and its texts (i18n.addTexts).
import "./methods.js";
import "./subscriptions.js";
