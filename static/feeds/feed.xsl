<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an RSS 2.0 or Atom 1.0 feed as a readable page when a person opens
     it in a browser; feed readers ignore it. Text only: summaries are shown
     as text, never as markup. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat" indent="yes"/>

  <xsl:template match="/">
    <!-- RSS channel and item text is escaped twice by Dateline (readers
         treat it as HTML), so one level of unescaping still leaves text; Atom
         text is escaped once and is never output unescaped. -->
    <xsl:variable name="home" select="rss/channel/link | atom:feed/atom:link[@rel='alternate']/@href"/>
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="rss/channel/title"/><xsl:value-of select="atom:feed/atom:title"/> (web feed)</title>
        <!-- A stylesheet, not an inline style: the feed is served with the
             site's Content-Security-Policy (style-src 'self'). -->
        <link rel="stylesheet" href="/static/feeds/feed.css"/>
      </head>
      <body>
        <main>
          <p class="about">This is a web feed. Copy its address into a feed reader
            (NetNewsWire, Feedly, Inoreader, newsboat, Thunderbird…) to follow
            <strong><xsl:value-of select="rss/channel/title"/><xsl:value-of select="atom:feed/atom:title"/></strong>.</p>
          <h1><xsl:value-of select="rss/channel/title"/><xsl:value-of select="atom:feed/atom:title"/></h1>
          <p><xsl:value-of select="rss/channel/description" disable-output-escaping="yes"/><xsl:value-of select="atom:feed/atom:subtitle"/></p>
          <p><a href="{$home}">Read it on the site</a></p>
          <ol>
            <xsl:for-each select="rss/channel/item | atom:feed/atom:entry">
              <li>
                <a href="{link | atom:link[@rel='alternate']/@href}">
                  <xsl:value-of select="title"/>
                  <xsl:value-of select="atom:title"/>
                </a>
                <div class="when"><xsl:value-of select="pubDate | atom:published"/></div>
                <div>
                  <xsl:value-of select="description" disable-output-escaping="yes"/>
                  <xsl:value-of select="atom:summary"/>
                </div>
              </li>
            </xsl:for-each>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
